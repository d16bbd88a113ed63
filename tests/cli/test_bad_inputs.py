"""The bad-input catalogue: every row is one bad input to one command, and every one of them must get the same
treatment (README "Output, errors and exit codes"): exit code 2, exactly one line on stderr that starts with
'mlcli: error: ' and holds the expected fragment, nothing on stdout, and nothing written in the working
directory, not even a hidden temporary file (the run history under $MLCLI_HOME may record the failed run).

A row: id, argv, the files to create first (name -> text or bytes; data files are generated, tiny), the
expected fragment of the message, and optionally what stdin holds. In argv, {bundle} and {regression} are
model bundles trained once for the module (outside the working directory), {bert} the tiny test BERT.
Rows about loading a damaged bundle come last; tests/models/test_bundle_format.py has the malicious ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import cli


class Case(NamedTuple):
    id: str
    argv: list[str]
    files: dict[str, str | bytes]
    fragment: str
    stdin: bytes | None = None


def _binary_csv(rows: int = 40, *, cell: str | None = None, blank_target: tuple[int, ...] = ()) -> str:
    """Generated: x1, x2 numeric, color categorical, label yes/no (learnable, both classes well filled).
    ``cell`` replaces x2 in row 0 (after any blank-target rows); rows in ``blank_target`` have no label."""
    lines = ["x1,x2,color,label"]
    for i in range(rows):
        x1 = round((i * 37 % 23) / 7 - 1.5, 3)
        x2 = cell if cell is not None and i == len(blank_target) else str(round((i * 11 % 17) / 5, 3))
        label = "" if i in blank_target else ("yes" if (x1 > 0) != (i % 5 == 0) else "no")
        lines.append(f"{x1},{x2},{['red', 'green', 'blue'][i % 3]},{label}")
    return "\n".join(lines) + "\n"


def _regression_csv(rows: int = 40, *, target: str | None = None) -> str:
    lines = ["a,b,grp,target"]
    for i in range(rows):
        a, b = round((i * 13 % 19) / 4, 3), round((i * 7 % 11) / 3, 3)
        y = target if target is not None and i == 2 else str(round(3 * a - 2 * b + (i % 2), 3))
        lines.append(f"{a},{b},{'pq'[i % 2]},{y}")
    return "\n".join(lines) + "\n"


GOOD = _binary_csv()
REG = _regression_csv()
D = {"d.csv": GOOD}
R = {"r.csv": REG}
EXTRA = "x1,x2,color,label\n1.5,2,red,yes,oops\n0.5,1,blue,no\n"  # the first data row has a field too many
RAGGED = "\n".join(line + (",extra" if i == 4 else "") for i, line in enumerate(GOOD.splitlines())) + "\n"
TRAILING = GOOD.replace("\n", ",\n").replace("x1,x2,color,label,\n", "x1,x2,color,label\n")
DUP = GOOD.replace("x1,x2,color,label", "x1,x1,color,label", 1)
SPACED_DUP = GOOD.replace("x1,x2,color,label", "x1, x1 ,color,label", 1)
NEW_X1_TEXT = "".join(f"lots{line[line.index(','):]}\n" if 0 < i < 30 else f"{line}\n"  # x1 mostly text
                      for i, line in enumerate(GOOD.splitlines()))
RARE = "x,z,y\n" + "".join(f"{i * 7 % 13},{i * 5 % 11},{'a' if i < 37 else 'b'}\n" for i in range(40))  # 3 'b'

SITES = GOOD.replace("x1,x2,color,label", "x1,x2,site,label", 1)
THREE = _binary_csv().replace(",no\n", ",maybe\n", 1)
ONE_CLASS = "a,b,y\n1,2,x\n3,4,x\n5,6,x\n"
NO_TARGET = GOOD.replace(",yes\n", ",\n").replace(",no\n", ",\n")


def recipe(text: str) -> dict[str, str]:
    return {"d.csv": GOOD, "r.yaml": text}


def _meta(**changes) -> str:
    """A bundle description (mlcli.json) with ``changes``; files: a pipeline whose recorded sha256 is 0...0."""
    import json

    meta = {"format_version": 2, "model": "logreg", "task": "binary", "target": "label", "classes": ["no", "yes"],
            "schema": {"target": "label", "task": "binary", "columns": [
                {"name": "x1", "dtype": "float64", "role": "numeric"}]},
            "files": {"pipeline.skops": "0" * 64}, "boosters": []}
    meta.update(changes)
    return json.dumps({k: v for k, v in meta.items() if v is not None})


CASES = [
    # ------------------------------------------------------------------ reading a data file
    Case("missing-file", ["train", "nope.csv"], {}, "file not found: nope.csv"),
    Case("empty-file", ["train", "empty.csv"], {"empty.csv": ""}, "empty.csv is empty"),
    Case("header-only", ["train", "h.csv"], {"h.csv": "a,b,c\n"}, "has a header but no data rows"),
    Case("binary-file", ["train", "blob.csv"], {"blob.csv": bytes(range(256)) * 10}, "not a text table"),
    Case("one-column", ["train", "one.csv"], {"one.csv": "hello\nworld\nagain\n"}, "is not a table"),
    Case("directory-as-data", ["train", "sub"], {"sub/keep.txt": "x"}, "sub is a directory, not a data file"),
    Case("dev-zero", ["train", "/dev/zero"], {}, "/dev/zero is not a regular file with a table in it"),
    Case("cv-dev-zero", ["cv", "/dev/zero", "--models", "logreg"], {}, "/dev/zero is not a regular file"),
    Case("stdin-binary", ["train", "-"], {}, "<stdin> does not hold a table", stdin=b"\x00" * 70000),
    Case("stdin-empty", ["train", "-"], {}, "<stdin> is empty", stdin=b""),
    Case("unknown-encoding", ["train", "d.csv", "--encoding", "klingon"], D, "cannot decode d.csv as klingon"),
    Case("extra-field-first-row", ["train", "x.csv"], {"x.csv": EXTRA},
         "x.csv: line 2 has 5 fields but the header has 4"),
    Case("extra-field-first-row-stdin", ["train", "-"], {}, "<stdin>: line 2 has 5 fields but the header has 4",
         stdin=EXTRA.encode()),
    Case("extra-field-first-row-cp1252", ["train", "x.csv"],
         {"x.csv": EXTRA.replace("oops", "caf\xe9").encode("cp1252")}, "line 2 has 5 fields but the header has 4"),
    Case("extra-field-first-row-tsv", ["train", "x.tsv"], {"x.tsv": EXTRA.replace(",", "\t")},
         "line 2 has 5 fields but the header has 4"),
    Case("extra-field-first-row-cv", ["cv", "x.csv", "--models", "logreg"], {"x.csv": EXTRA},
         "line 2 has 5 fields"),
    Case("trailing-separator-every-row", ["train", "t.csv"], {"t.csv": TRAILING},
         "line 2 has 5 fields but the header has 4"),
    Case("extra-field-later-row", ["train", "g.csv"], {"g.csv": RAGGED}, "Expected 4 fields in line 5, saw 5"),
    Case("duplicate-header", ["train", "dup.csv"], {"dup.csv": DUP}, "dup.csv has duplicate column names: x1"),
    Case("duplicate-header-blanks", ["train", "dup.csv"], {"dup.csv": SPACED_DUP}, "duplicate column names: x1"),
    Case("duplicate-header-stdin", ["train", "-"], {}, "<stdin> has duplicate column names: x1", stdin=DUP.encode()),
    Case("duplicate-header-cv", ["cv", "dup.csv", "--models", "logreg"], {"dup.csv": DUP},
         "duplicate column names: x1"),
    # ------------------------------------------------------------------ infinite values
    Case("inf", ["train", "i.csv"], {"i.csv": _binary_csv(cell="inf")},
         "column 'x2' holds an infinite value (row 1: inf)"),
    Case("minus-inf", ["train", "i.csv"], {"i.csv": _binary_csv(cell="-inf")},
         "column 'x2' holds an infinite value (row 1: -inf)"),
    Case("overflow-1e999", ["train", "i.csv"], {"i.csv": _binary_csv(cell="1e999")},
         "column 'x2' holds an infinite value (row 1: inf)"),
    Case("inf-after-dropped-rows", ["train", "i.csv"], {"i.csv": _binary_csv(cell="inf", blank_target=(0, 1))},
         "column 'x2' holds an infinite value (row 3: inf)"),
    Case("inf-cv", ["cv", "i.csv", "--models", "logreg"], {"i.csv": _binary_csv(cell="inf")},
         "column 'x2' holds an infinite value"),
    Case("inf-regression-target", ["train", "r.csv", "--target", "target"], {"r.csv": _regression_csv(target="inf")},
         "column 'target' holds an infinite value (row 3: inf)"),
    # ------------------------------------------------------------------ target, roles, models, parameters
    Case("target-not-found", ["train", "d.csv", "--target", "lable"], D,
         "target column 'lable' not found (did you mean 'label'?)"),
    Case("one-class-target", ["train", "o.csv"], {"o.csv": ONE_CLASS}, "target 'y' has only one class ('x')"),
    Case("target-all-missing", ["train", "n.csv", "--target", "label"], {"n.csv": NO_TARGET},
         "target column 'label' is empty"),
    Case("class-too-small", ["train", "t.csv", "--model", "logreg"], {"t.csv": THREE}, "'maybe' has 1"),
    Case("unknown-model", ["train", "d.csv", "--model", "xgbost"], D, "unknown model 'xgbost'"),
    Case("unknown-param", ["train", "d.csv", "--model", "svm", "--param", "Cc=3"], D, "unknown parameter 'Cc'"),
    Case("ill-typed-param", ["train", "d.csv", "--model", "svm", "--param", "C=abc"], D,
         "the 'C' parameter of model 'svm' must be a number, got 'abc'"),
    Case("param-without-equals", ["train", "d.csv", "--model", "rf", "--param", "n_estimators"], D,
         "--param expects key=value"),
    Case("param-out-of-range", ["train", "d.csv", "--model", "rf", "--param", "n_estimators=0"], D,
         "The 'n_estimators' parameter of RandomForestClassifier must be an int in the range [1, inf)"),
    Case("model-without-regression", ["train", "r.csv", "--model", "nb-gaussian"], R,
         "model 'nb-gaussian' does not do regression"),
    Case("unknown-drop-column", ["train", "d.csv", "--drop", "colour"], D,
         "column 'colour' (given with --drop) not found"),
    Case("threshold-not-a-probability", ["train", "d.csv", "--threshold", "often"], D,
         "--threshold must be a probability in (0, 1) or 'auto'"),
    Case("unknown-optimize", ["train", "d.csv", "--threshold", "auto", "--optimize", "speed"], D,
         "unknown --optimize 'speed'"),
    Case("threshold-auto-regression", ["train", "r.csv", "--threshold", "auto"], R, "binary classification only"),
    Case("class-weight-unknown-class", ["train", "d.csv", "--model", "logreg", "--class-weight", "maybe=3"], D,
         "--class-weight names class 'maybe'"),
    Case("balance-on-regression", ["train", "r.csv", "--balance", "smote"], R,
         "--balance and --class-weight are for classification"),
    Case("out-is-a-foreign-directory", ["train", "d.csv", "--model", "logreg", "--out", "precious"],
         {**D, "precious/thesis.txt": "do not delete"}, "refusing to overwrite"),
    # ------------------------------------------------------------------ command-line usage (click), one line
    Case("threads-zero", ["train", "d.csv", "--threads", "0"], D, "Invalid value for '--threads'"),
    Case("format-xml", ["train", "d.csv", "--format", "xml"], D, "'xml' is not one of table, json, csv"),
    Case("unknown-option", ["train", "d.csv", "--bogus"], D, "No such option: --bogus"),
    Case("unknown-command", ["trian", "d.csv"], D, "No such command 'trian'"),
    Case("unknown-global-option", ["--bogus"], {}, "No such option: --bogus"),
    Case("missing-argument", ["predict", "{bundle}"], {}, "Missing argument"),
    Case("test-size-not-a-number", ["train", "d.csv", "--test-size", "half"], D, "Invalid value for '--test-size'"),
    Case("seed-negative", ["train", "d.csv", "--seed", "-1"], D,
         "Invalid value for '--seed': Input should be greater than or equal to 0"),
    Case("seed-too-large", ["train", "d.csv", "--seed", str(2**32)], D,
         "Invalid value for '--seed': Input should be less than or equal to 4294967295"),
    Case("seed-huge-cv", ["cv", "d.csv", "--seed", "99999999999999999999999"], D, "Invalid value for '--seed'"),
    # ------------------------------------------------------------------ cv
    Case("cv-one-fold", ["cv", "d.csv", "--folds", "1"], D, "Invalid value for '--folds'"),
    Case("cv-zero-repeats", ["cv", "d.csv", "--repeats", "0"], D, "Invalid value for '--repeats'"),
    Case("cv-metric-wrong-task", ["cv", "d.csv", "--models", "logreg", "--metric", "rmse"], D,
         "--metric 'rmse' is not reported for binary tasks"),
    Case("cv-metric-typo", ["cv", "d.csv", "--models", "logreg", "--metric", "acuracy"], D,
         "(did you mean 'accuracy'?)"),
    Case("cv-jobs-zero", ["cv", "d.csv", "--models", "logreg", "--jobs", "0"], D, "--jobs must be at least 1"),
    Case("cv-timeout-zero", ["cv", "d.csv", "--models", "logreg", "--timeout", "0"], D,
         "--timeout must be a positive number of seconds, got 0"),
    Case("cv-param-and-grid", ["cv", "d.csv", "--models", "tree", "--param", "max_depth=2", "--grid", "max_depth=1,2"],
         D, "given both with --param and --grid"),
    Case("cv-grid-without-values", ["cv", "d.csv", "--models", "knn", "--grid", "n_neighbors"], D,
         "--grid expects key=v1,v2,..., got 'n_neighbors'"),
    Case("cv-unknown-model-before-data", ["cv", "nope.csv", "--models", "logreg,xgbost"], {},
         "unknown model 'xgbost'"),
    Case("cv-more-folds-than-class", ["cv", "rare.csv", "--models", "logreg", "--folds", "5"], {"rare.csv": RARE},
         "--folds 5 is more than the 3 row(s) of the smallest class ('b')"),
    Case("cv-groups-not-found", ["cv", "s.csv", "--models", "logreg", "--groups", "sight"], {"s.csv": SITES},
         "--groups column 'sight' not found (did you mean 'site'?)"),
    Case("cv-bad-scheduler", ["cv", "d.csv", "--models", "logreg", "--scheduler", "nonsense"], D,
         "--scheduler 'nonsense' is not a scheduler address"),
    Case("cv-oof-directory", ["cv", "d.csv", "--models", "logreg", "--oof", "outdir"], {**D, "outdir/keep": "x"},
         "--oof outdir is a directory"),
    Case("cv-oof-missing-folder", ["cv", "d.csv", "--models", "logreg", "--oof", "nodir/oof.csv"], D,
         "--oof nodir/oof.csv: directory nodir does not exist"),
    Case("cv-oof-device", ["cv", "d.csv", "--models", "logreg", "--oof", "/dev/null"], D,
         "--oof /dev/null exists and is not a regular file"),
    Case("cv-save-best-foreign-directory", ["cv", "d.csv", "--models", "logreg", "--save-best", "taken"],
         {**D, "taken/notes.txt": "mine"}, "refusing to overwrite"),
    Case("cv-balance-typo", ["cv", "d.csv", "--models", "logreg", "--balance", "none,smoot"], D,
         "unknown balance method 'smoot'"),
    # ------------------------------------------------------------------ recipes
    Case("recipe-not-found", ["train", "--recipe", "nope.yaml"], {}, "recipe file not found: nope.yaml"),
    Case("recipe-not-yaml", ["train", "--recipe", "r.yaml"], recipe("data: d.csv\nmodel: [logreg\n"),
         "recipe r.yaml is not valid YAML"),
    Case("recipe-a-list", ["train", "--recipe", "r.yaml"], recipe("- logreg\n- rf\n"),
         "recipe r.yaml must be a mapping of key: value lines, got a list"),
    Case("recipe-empty", ["train", "--recipe", "r.yaml"], recipe("# nothing\n"), "recipe r.yaml is empty"),
    Case("recipe-unknown-key", ["cv", "--recipe", "r.yaml"], recipe("data: d.csv\nfold: 3\n"),
         "recipe r.yaml: unknown key 'fold' (did you mean 'folds'?)"),
    Case("recipe-key-of-cv-in-train", ["train", "--recipe", "r.yaml"], recipe("data: d.csv\nfolds: 3\n"),
         "key 'folds' is a cv option, not a train one"),
    Case("recipe-for-cv-run-by-train", ["train", "--recipe", "r.yaml"], recipe("command: cv\ndata: d.csv\n"),
         "recipe r.yaml is a cv recipe (command: cv)"),
    Case("recipe-wrong-type", ["cv", "--recipe", "r.yaml"], recipe("data: d.csv\nfolds: five\n"),
         "recipe r.yaml: key 'folds' must be an integer, got text 'five'"),
    Case("recipe-out-of-range", ["cv", "--recipe", "r.yaml"], recipe("data: d.csv\nfolds: 1\n"),
         "recipe r.yaml: key 'folds': Input should be greater than or equal to 2"),
    Case("recipe-negative-seed", ["train", "--recipe", "r.yaml"], recipe("data: d.csv\nseed: -1\n"),
         "recipe r.yaml: key 'seed': Input should be greater than or equal to 0"),
    Case("recipe-duplicate-key", ["train", "--recipe", "r.yaml"], recipe("data: d.csv\nmodel: rf\nmodel: logreg\n"),
         "recipe r.yaml: key 'model' is given twice (lines 2 and 3)"),
    Case("recipe-data-not-found", ["train", "--recipe", "r.yaml"], recipe("data: nope.csv\n"),
         "key 'data' names a file that does not exist: nope.csv"),
    Case("recipe-not-utf8", ["train", "--recipe", "r.yaml"], {"r.yaml": b"\xff\xfe\x00bad"},
         "recipe r.yaml is not a UTF-8 text file"),
    Case("no-data-anywhere", ["train"], {}, "no data file: give it as mlcli train DATA"),
    Case("save-recipe-missing-folder", ["train", "d.csv", "--save-recipe", "no/such/r.yaml"], D,
         "--save-recipe no/such/r.yaml: directory no/such does not exist"),
    Case("save-recipe-directory", ["train", "d.csv", "--save-recipe", "rdir"], {**D, "rdir/keep": "x"},
         "--save-recipe rdir is a directory"),
    # ------------------------------------------------------------------ predict and evaluate
    Case("predict-missing-columns", ["predict", "{bundle}", "n.csv"],
         {"n.csv": GOOD.replace("x1,x2,color,label", "a1,x2,colour,label", 1)},
         "is missing 2 column(s) the model was trained on: x1, color"),
    Case("predict-wrong-type", ["predict", "{bundle}", "n.csv"], {"n.csv": NEW_X1_TEXT},
         "'x1' should be numeric but holds values like 'lots' (29 of its 40 values are not numbers)"),
    Case("predict-inf", ["predict", "{bundle}", "n.csv"], {"n.csv": _binary_csv(cell="inf")},
         "column 'x2' of n.csv holds an infinite value (row 1: inf)"),
    Case("predict-extra-field", ["predict", "{bundle}", "x.csv"], {"x.csv": EXTRA}, "line 2 has 5 fields"),
    Case("predict-duplicate-header", ["predict", "{bundle}", "dup.csv"], {"dup.csv": DUP},
         "duplicate column names: x1"),
    Case("predict-dev-zero", ["predict", "{bundle}", "/dev/zero"], {}, "/dev/zero is not a regular file"),
    Case("predict-output-directory", ["predict", "{bundle}", "d.csv", "-o", "outdir"], {**D, "outdir/keep": "x"},
         "--output outdir is a directory"),
    Case("predict-output-missing-folder", ["predict", "{bundle}", "d.csv", "-o", "nodir/p.csv"], D,
         "--output nodir/p.csv: directory nodir does not exist"),
    Case("predict-output-device", ["predict", "{bundle}", "d.csv", "-o", "/dev/null"], D,
         "--output /dev/null exists and is not a regular file"),
    Case("predict-threshold-out-of-range", ["predict", "{bundle}", "d.csv", "--threshold", "1.5"], D,
         "--threshold must be between 0 and 1"),
    Case("predict-keep-not-found", ["predict", "{bundle}", "d.csv", "--keep", "id"], D, "--keep column 'id' not found"),
    Case("evaluate-without-target", ["evaluate", "{bundle}", "n.csv"],
         {"n.csv": GOOD.replace(",label\n", ",other\n", 1)}, "evaluate needs labelled data"),
    Case("evaluate-unseen-label", ["evaluate", "{bundle}", "t.csv"], {"t.csv": THREE},
         "label(s) the model never saw: maybe"),
    Case("evaluate-inf", ["evaluate", "{bundle}", "i.csv"], {"i.csv": _binary_csv(cell="-inf", blank_target=(0,))},
         "column 'x2' of i.csv holds an infinite value (row 2: -inf)"),
    Case("evaluate-inf-target", ["evaluate", "{regression}", "r.csv"], {"r.csv": _regression_csv(target="1e999")},
         "column 'target' of r.csv holds an infinite value (row 3: inf)"),
    Case("evaluate-threshold-regression", ["evaluate", "{regression}", "r.csv", "--threshold", "0.3"], R,
         "--threshold applies to binary classification models only"),
    # ------------------------------------------------------------------ balance
    Case("balance-unknown-method", ["balance", "d.csv", "--method", "smot"], D, "unknown balance method 'smot'"),
    Case("balance-regression", ["balance", "r.csv"], R, "balance is for classification targets"),
    Case("balance-too-few-rows", ["balance", "rare.csv", "--method", "smote"], {"rare.csv": RARE},
         "needs at least 6 rows of every class (k_neighbors=5 + 1)"),
    Case("balance-output-directory", ["balance", "d.csv", "--method", "oversample", "-o", "outdir"],
         {**D, "outdir/keep": "x"}, "--output outdir is a directory"),
    Case("balance-output-missing-folder", ["balance", "d.csv", "--method", "oversample", "-o", "no/b.csv"], D,
         "--output no/b.csv: directory no does not exist"),
    Case("balance-seed-negative", ["balance", "d.csv", "--seed", "-5"], D, "Invalid value for '--seed'"),
    Case("balance-dev-zero", ["balance", "/dev/zero"], {}, "/dev/zero is not a regular file"),
    Case("balance-extra-field", ["balance", "x.csv"], {"x.csv": EXTRA}, "line 2 has 5 fields"),
    # ------------------------------------------------------------------ explain
    Case("explain-unknown-method", ["explain", "{bundle}", "d.csv", "-m", "shapley"], D,
         "unknown --method 'shapley' (did you mean 'shap'?)"),
    Case("explain-row-and-where", ["explain", "{bundle}", "d.csv", "--row", "1", "--where", "color=red"], D,
         "give --row or --where, not both"),
    Case("explain-where-without-equals", ["explain", "{bundle}", "d.csv", "--where", "color"], D,
         "--where expects COLUMN=VALUE"),
    Case("explain-row-out-of-range", ["explain", "{bundle}", "d.csv", "--row", "5000"], D,
         "--row 5000 is out of range"),
    Case("explain-plot-not-png", ["explain", "{bundle}", "d.csv", "--plot", "out.txt"], D,
         "--plot out.txt: give a file ending in .png"),
    Case("explain-plot-missing-folder", ["explain", "{bundle}", "d.csv", "--plot", "nodir/out.png"], D,
         "directory nodir does not exist"),
    Case("explain-inf", ["explain", "{bundle}", "i.csv"], {"i.csv": _binary_csv(cell="inf")},
         "column 'x2' of i.csv holds an infinite value"),
    # ------------------------------------------------------------------ embed
    Case("embed-bad-reduce", ["embed", "d.csv", "--reduce", "tsne:2"], D, "--reduce expects pca:K"),
    Case("embed-bad-pooling", ["embed", "d.csv", "--pooling", "max"], D, "'max' is not one of mean, cls"),
    Case("embed-keep-with-npy", ["embed", "d.csv", "--keep", "color", "-o", "e.npy"], D,
         "--keep needs a table output"),
    Case("embed-unknown-output-format", ["embed", "d.csv", "-o", "e.xlsx"], D, "cannot tell the output format of"),
    Case("embed-output-directory", ["embed", "d.csv", "-o", "outdir"], {**D, "outdir/keep": "x"},
         "--output outdir is a directory"),
    Case("embed-output-missing-folder", ["embed", "d.csv", "-o", "nodir/e.parquet"], D,
         "--output nodir/e.parquet: directory nodir does not exist"),
    Case("embed-batch-size-zero", ["embed", "d.csv", "--batch-size", "0"], D, "Invalid value for '--batch-size'"),
    Case("embed-dev-zero", ["embed", "/dev/zero", "--base-model", "{bert}"], {}, "/dev/zero is not a regular file"),
    Case("embed-extra-field", ["embed", "x.csv", "--base-model", "{bert}"], {"x.csv": EXTRA},
         "x.csv: line 2 has 5 fields but the header has 4"),
    Case("embed-duplicate-header", ["embed", "dup.csv", "--base-model", "{bert}"], {"dup.csv": DUP},
         "dup.csv has duplicate column names: x1"),
    Case("embed-text-column-not-found", ["embed", "d.csv", "--text", "colr", "--base-model", "{bert}"], D,
         "text column 'colr' not found"),
    # ------------------------------------------------------------------ models and runs
    Case("models-unknown", ["models", "xgbost"], {}, "unknown model 'xgbost'"),
    Case("models-format-xml", ["models", "--format", "xml"], {}, "'xml' is not one of table, json, csv"),
    Case("runs-show-unknown", ["runs", "show", "42"], {}, "run 42 not found in the run history"),
    Case("runs-show-not-a-number", ["runs", "show", "abc"], {}, "a run id is a whole number"),
    Case("runs-compare-one", ["runs", "compare", "1"], {}, "runs compare needs two or more run ids, got 1"),
    Case("runs-list-bad-status", ["runs", "list", "--status", "finshed"], {}, "(did you mean 'finished'?)"),
    Case("runs-list-bad-command", ["runs", "list", "--command", "predict"], {},
         "--command must be one of "),
    Case("runs-list-negative-limit", ["runs", "list", "--limit", "-1"], {}, "Invalid value for '--limit'"),
    Case("runs-rerun-unknown", ["runs", "rerun", "9"], {}, "run 9 not found"),
    Case("runs-unknown-subcommand", ["runs", "delete", "1"], {}, "No such command 'delete'"),
    # ------------------------------------------------------------------ loading a bundle (nothing is built)
    Case("bundle-not-a-bundle", ["predict", "b", "d.csv"], {**D, "b/notes.txt": "hi"}, "is not an mlcli model bundle"),
    Case("bundle-json-array", ["predict", "b", "d.csv"], {**D, "b/mlcli.json": "[]"}, "it is list, not an object"),
    Case("bundle-json-broken", ["evaluate", "b", "d.csv"], {**D, "b/mlcli.json": "{"}, "mlcli.json is unreadable"),
    Case("bundle-version-text", ["predict", "b", "d.csv"], {**D, "b/mlcli.json": _meta(format_version="abc")},
         "'format_version' must be a whole number"),
    Case("bundle-newer", ["explain", "b", "d.csv"], {**D, "b/mlcli.json": _meta(format_version=99)},
         "written by a newer mlcli (bundle format 99"),
    Case("bundle-no-schema", ["predict", "b", "d.csv"], {**D, "b/mlcli.json": _meta(schema=None)},
         "lacks 'schema'"),
    Case("bundle-columns-null", ["predict", "b", "d.csv"],
         {**D, "b/mlcli.json": _meta(schema={"target": "label", "task": "binary", "columns": None})},
         "'schema.columns' must be a list"),
    Case("bundle-task-wrong", ["evaluate", "b", "d.csv"], {**D, "b/mlcli.json": _meta(task=3)},
         "'task' must be one of binary, multiclass, regression"),
    Case("bundle-file-missing", ["predict", "b", "d.csv"], {**D, "b/mlcli.json": _meta()},
         "is incomplete: pipeline.skops is missing"),
    Case("bundle-file-changed", ["predict", "b", "d.csv"], {**D, "b/mlcli.json": _meta(), "b/pipeline.skops": "x"},
         "pipeline.skops does not match the sha256 recorded in mlcli.json"),
    Case("bundle-file-outside", ["predict", "b", "d.csv"],
         {**D, "b/mlcli.json": _meta(files={"../d.csv": "0" * 64})},
         "lists '../d.csv', which is not a plain path inside the bundle"),
    Case("bundle-old-pickle", ["predict", "b", "d.csv"],
         {**D, "b/mlcli.json": _meta(format_version=1, files=None), "b/model.joblib": b"not read"},
         "is an old bundle saved as a pickle"),
    Case("bundle-old-pickle-explain", ["explain", "b"],
         {"b/mlcli.json": _meta(format_version=1, files=None), "b/model.joblib": b"not read"}, "--trust-pickle"),
    Case("inspect-upgrade-untrusted", ["inspect", "b", "--upgrade"],
         {"b/mlcli.json": _meta(format_version=1, files=None), "b/model.joblib": b"not read"},
         "--upgrade reads the old bundle's pickle"),
    Case("inspect-json-array", ["inspect", "b"], {"b/mlcli.json": "[]"}, "it is list, not an object"),
]

QUIET = ("train", "cv", "evaluate", "predict", "balance", "explain", "embed")  # notices would add lines


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, str]:
    """A binary and a regression bundle (logreg, linear), trained once, outside every case's directory."""
    where = tmp_path_factory.mktemp("catalogue-bundles")
    (where / "d.csv").write_text(GOOD)
    (where / "r.csv").write_text(REG)
    out = {}
    for name, data, model in (("bundle", "d.csv", "logreg"), ("regression", "r.csv", "linear")):
        result = cli("train", where / data, "--model", model, "--out", where / name, "-q", "--format", "json",
                     "--no-leak-check")
        assert result.exit_code == 0, result.stderr
        out[name] = str(where / name)
    return out


def _snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """Every file and directory under root (hidden ones too) with its size and modification time."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            seen[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


def test_the_catalogue_is_large_and_ids_are_unique():
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, request):
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    places = {}
    if any("{bundle}" in a or "{regression}" in a for a in case.argv):
        places.update(request.getfixturevalue("bundles"))
    if any("{bert}" in a for a in case.argv):
        places["bert"] = str(request.getfixturevalue("tiny_bert"))
    argv = [a.format(**places) if "{" in a else a for a in case.argv]
    if argv and argv[0] in QUIET:
        argv.append("-q")
    home = Path(os.environ["MLCLI_HOME"])
    before = _snapshot(tmp_path, home)

    result = cli(*argv, input=case.stdin)

    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlcli: error: "), lines[0]
    assert case.fragment in lines[0], lines[0]
    assert _snapshot(tmp_path, home) == before


def test_no_arguments_prints_the_help():
    result = cli()
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Usage: mlcli") and "Commands:" in result.stderr
