"""The commands' workflows: train, evaluate, predict, cv, balance, explain, embed."""
