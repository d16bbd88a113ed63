"""The attack corpus (issue 24): bundles from a stranger, built by the tests from genuine ones and each run
through predict, evaluate, explain, report and inspect. See corpus.py for what each attack is."""
