"""The models mlcli knows: one entry each.

Every command, ``mlcli models``, ``--help``, SHAP and the contract tests pick an entry up the moment it is
added here; an entry names its estimator classes by import path, so listing models imports nothing heavy.
What each field means: :class:`mlcli.models.spec.ModelSpec`.
"""

from __future__ import annotations

from mlcli.models.spec import ModelSpec

_SK = "sklearn."

# search spaces (mlcli tune; the form: mlcli.models.space). The boosters keep early stopping on, so their
# number of rounds is never searched; a key only the classifier or the regressor takes applies to that task only.
_LOG = "log"
_C = ("float", 1e-3, 1e3, _LOG)
_LINEAR = {"C": _C, "alpha": ("float", 1e-3, 1e3, _LOG)}
_SPARSE = {"C": ("float", 1e-3, 1e2, _LOG), "alpha": ("float", 1e-4, 10.0, _LOG)}
_SVM = {"C": ("float", 1e-2, 1e3, _LOG), "epsilon": ("float", 1e-3, 1.0, _LOG)}
_FOREST = {"max_features": ("choice", ["sqrt", "log2", 0.5, 0.8, 1.0]), "min_samples_leaf": ("int", 1, 20, _LOG),
           "max_depth": ("choice", [None, 6, 12, 24])}
_RATE = ("float", 0.01, 0.3, _LOG)
_REG = ("float", 1e-3, 10.0, _LOG)
_SAMPLE = {"subsample": ("float", 0.5, 1.0), "colsample_bytree": ("float", 0.4, 1.0), "reg_lambda": _REG,
           "reg_alpha": _REG}

MODEL_ENTRIES: tuple[ModelSpec, ...] = (
    ModelSpec(
        "logreg", "Logistic regression (classification) / ordinary least squares (regression)",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:LinearRegression",
        clf_defaults={"max_iter": 2000}, fast=True, aliases=("linear", "lr", "logistic"), regression_name="linear",
        search_space={"C": _C}),
    ModelSpec(
        "ridge", "L2-penalised logistic / ridge regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Ridge",
        clf_defaults={"max_iter": 2000, "l1_ratio": 0.0, "C": 1.0}, fast=True, search_space=_LINEAR),
    ModelSpec(
        "lasso", "L1-penalised logistic / lasso regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Lasso",
        clf_defaults={"max_iter": 5000, "l1_ratio": 1.0, "solver": "saga"}, reg_defaults={"max_iter": 5000},
        search_space=_SPARSE),
    ModelSpec(
        "elasticnet", "Elastic-net logistic / elastic-net regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:ElasticNet",
        clf_defaults={"max_iter": 5000, "l1_ratio": 0.5, "solver": "saga"}, reg_defaults={"max_iter": 5000},
        aliases=("enet",), search_space={**_SPARSE, "l1_ratio": ("float", 0.05, 0.95)}),
    ModelSpec(
        "knn", "k-nearest neighbours",
        classifier=_SK + "neighbors:KNeighborsClassifier", regressor=_SK + "neighbors:KNeighborsRegressor",
        seed_param=None, threads_param="n_jobs", class_weight=None, fast=True, scale_target=True,
        search_space={"n_neighbors": ("int", 1, 50, _LOG), "weights": ("choice", ["uniform", "distance"]),
                      "p": ("choice", [1, 2])}),
    ModelSpec(
        "svm", "Support vector machine, RBF kernel (kernel=linear|poly|rbf via --param)",
        classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "rbf"},
        reg_defaults={}, calibrate=True, aliases=("svc", "svr", "svm-rbf"), scale_target=True,
        search_space={**_SVM, "gamma": ("float", 1e-4, 1.0, _LOG)}),
    ModelSpec(
        "svm-linear", "Support vector machine, linear kernel",
        classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "linear"}, calibrate=True,
        scale_target=True, search_space=_SVM),
    ModelSpec(
        "svm-poly", "Support vector machine, polynomial kernel",
        classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "poly", "degree": 3},
        calibrate=True, scale_target=True),
    ModelSpec(
        "nb-gaussian", "Gaussian naive Bayes", classifier=_SK + "naive_bayes:GaussianNB",
        seed_param=None, dense=True, class_weight=None, fast=True, aliases=("nb", "naive-bayes", "gaussian-nb")),
    ModelSpec(
        "nb-bernoulli", "Bernoulli naive Bayes", classifier=_SK + "naive_bayes:BernoulliNB",
        seed_param=None, class_weight=None, aliases=("bernoulli-nb",)),
    ModelSpec(
        "tree", "Decision tree (CART)",
        classifier=_SK + "tree:DecisionTreeClassifier", regressor=_SK + "tree:DecisionTreeRegressor",
        scale=False, densify=True, fast=True, aliases=("dt", "decision-tree", "cart"), explainer="tree",
        search_space={"max_depth": ("choice", [None, 3, 5, 8, 12]), "min_samples_leaf": ("int", 1, 50, _LOG)}),
    ModelSpec(
        "rf", "Random forest",
        classifier=_SK + "ensemble:RandomForestClassifier", regressor=_SK + "ensemble:RandomForestRegressor",
        threads_param="n_jobs", scale=False, densify=True, aliases=("random-forest", "randomforest"),
        explainer="tree", search_space=_FOREST),
    ModelSpec(
        "extratrees", "Extremely randomised trees",
        classifier=_SK + "ensemble:ExtraTreesClassifier", regressor=_SK + "ensemble:ExtraTreesRegressor",
        threads_param="n_jobs", scale=False, densify=True, aliases=("et", "extra-trees"), explainer="tree",
        search_space=_FOREST),
    ModelSpec(
        "hgb", "Histogram gradient boosting (scikit-learn)",
        classifier=_SK + "ensemble:HistGradientBoostingClassifier",
        regressor=_SK + "ensemble:HistGradientBoostingRegressor",
        scale=False, dense=True, fast=True, aliases=("histgb", "hist-gradient-boosting"), explainer="tree",
        early_stopping="native",
        search_space={"learning_rate": _RATE, "max_leaf_nodes": ("int", 8, 128, _LOG),
                      "min_samples_leaf": ("int", 5, 100, _LOG), "l2_regularization": ("float", 1e-6, 10.0, _LOG),
                      "max_features": ("float", 0.4, 1.0)}),
    ModelSpec(
        "adaboost", "AdaBoost",
        classifier=_SK + "ensemble:AdaBoostClassifier", regressor=_SK + "ensemble:AdaBoostRegressor",
        scale=False, densify=True, class_weight="sample_weight", aliases=("ada",)),
    ModelSpec(
        "sgd", "Linear model fitted by stochastic gradient descent (logistic loss / squared loss)",
        classifier=_SK + "linear_model:SGDClassifier", regressor=_SK + "linear_model:SGDRegressor",
        clf_defaults={"loss": "log_loss"}, threads_param="n_jobs", aliases=("sgd-classifier", "sgd-regressor"),
        scale_target=True),
    ModelSpec(
        "perceptron", "Perceptron (Rosenblatt): a linear classifier, probabilities by calibration",
        classifier=_SK + "linear_model:Perceptron", threads_param="n_jobs", calibrate=True),
    ModelSpec(
        "mlp", "Multi-layer perceptron",
        classifier=_SK + "neural_network:MLPClassifier", regressor=_SK + "neural_network:MLPRegressor",
        defaults={"max_iter": 500, "early_stopping": True}, class_weight="sample_weight",
        aliases=("neural-net", "nn"), scale_target=True,
        search_space={"hidden_layer_sizes": ("choice", [[64], [100], [256], [64, 64], [128, 64]]),
                      "alpha": ("float", 1e-6, 1e-1, _LOG), "learning_rate_init": ("float", 1e-4, 1e-2, _LOG)}),
    ModelSpec(
        "xgboost", "XGBoost gradient-boosted trees",
        classifier="xgboost:XGBClassifier", regressor="xgboost:XGBRegressor", package="xgboost", install="xgboost-cpu",
        defaults={"n_estimators": 300, "learning_rate": 0.05, "max_depth": 6, "tree_method": "hist",
                  "verbosity": 0},
        threads_param="n_jobs", scale=False, class_weight="sample_weight", fast=True, aliases=("xgb",),
        explainer="xgboost", early_stopping="xgboost",
        search_space={"learning_rate": _RATE, "max_depth": ("int", 2, 10),
                      "min_child_weight": ("float", 0.5, 20.0, _LOG), **_SAMPLE}),
    ModelSpec(
        "lightgbm", "LightGBM gradient-boosted trees",
        classifier="lightgbm:LGBMClassifier", regressor="lightgbm:LGBMRegressor",
        package="lightgbm", install="lightgbm",
        defaults={"n_estimators": 300, "learning_rate": 0.05, "verbose": -1, "importance_type": "gain"},
        threads_param="n_jobs", scale=False, fast=True, aliases=("lgbm", "lgb"), explainer="lightgbm",
        early_stopping="lightgbm",
        search_space={"learning_rate": _RATE, "num_leaves": ("int", 8, 256, _LOG),
                      "min_child_samples": ("int", 5, 100, _LOG), **_SAMPLE, "subsample_freq": ("fixed", 1)}),
    ModelSpec(
        "catboost", "CatBoost gradient-boosted trees (categoricals handled natively)",
        classifier="catboost:CatBoostClassifier", regressor="catboost:CatBoostRegressor",
        package="catboost", install="catboost",
        defaults={"iterations": 500, "one_hot_max_size": 64, "max_ctr_complexity": 1, "verbose": 0,
                  "allow_writing_files": False},
        seed_param="random_seed", threads_param="thread_count", scale=False, native_categorical=True,
        text_vocabulary=1000, class_weight="auto_class_weights", aliases=("cb", "cat"), explainer="catboost",
        early_stopping="catboost",
        search_space={"learning_rate": _RATE, "depth": ("int", 3, 10), "l2_leaf_reg": ("float", 1.0, 30.0, _LOG),
                      "random_strength": ("float", 0.1, 10.0, _LOG), "rsm": ("float", 0.5, 1.0)}),
    ModelSpec(
        "transformer", "Fine-tuned transformer on the text columns (default base: all-MiniLM-L6-v2, offline)",
        classifier="mlcli.text.estimator:TransformerClassifier", regressor="mlcli.text.estimator:TransformerRegressor",
        package="transformers", install="transformers", extra="text", threads_param="n_threads", scale=False,
        text_only=True,
        aliases=("bert", "minilm", "fine-tune", "finetune")),

    ModelSpec(
        "baseline", "The trivial model: the training class shares (classification) or mean (regression)",
        classifier=_SK + "dummy:DummyClassifier", regressor=_SK + "dummy:DummyRegressor",
        clf_defaults={"strategy": "prior"}, reg_defaults={"strategy": "mean"}, scale=False, class_weight=None,
        aliases=("dummy", "prior", "mean"), baseline=True),

    # ensembles made for imbalanced classes (imbalanced-learn): each member sees a balanced sample
    ModelSpec(
        "balanced-rf", "Balanced random forest: each tree on a balanced bootstrap (imbalanced-learn)",
        classifier="imblearn.ensemble:BalancedRandomForestClassifier", package="imblearn", install="imbalanced-learn",
        defaults={"sampling_strategy": "all", "replacement": True, "bootstrap": False},
        threads_param="n_jobs", scale=False, densify=True, aliases=("brf", "balanced-random-forest")),
    ModelSpec(
        "easy-ensemble", "Easy ensemble: AdaBoost learners on balanced under-samples (imbalanced-learn)",
        classifier="imblearn.ensemble:EasyEnsembleClassifier", package="imblearn", install="imbalanced-learn",
        threads_param="n_jobs",
        scale=False, densify=True, class_weight=None, aliases=("easyensemble",)),
    ModelSpec(
        "rusboost", "RUSBoost: boosting with random under-sampling at each round (imbalanced-learn)",
        classifier="imblearn.ensemble:RUSBoostClassifier", package="imblearn", install="imbalanced-learn",
        scale=False, densify=True, class_weight=None),
)
