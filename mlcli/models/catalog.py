"""The models mlcli knows: one entry each.

Every command, ``mlcli models``, ``--help``, SHAP and the contract tests pick an entry up the moment it is
added here; an entry names its estimator classes by import path, so listing models imports nothing heavy.
What each field means: :class:`mlcli.models.spec.ModelSpec`.
"""

from __future__ import annotations

from mlcli.models.spec import ModelSpec

_SK = "sklearn."

MODEL_ENTRIES: tuple[ModelSpec, ...] = (
    ModelSpec(
        "logreg", "Logistic regression (classification) / ordinary least squares (regression)",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:LinearRegression",
        clf_defaults={"max_iter": 2000}, fast=True, aliases=("linear", "lr", "logistic"), regression_name="linear"),
    ModelSpec(
        "ridge", "L2-penalised logistic / ridge regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Ridge",
        clf_defaults={"max_iter": 2000, "l1_ratio": 0.0, "C": 1.0}, fast=True),
    ModelSpec(
        "lasso", "L1-penalised logistic / lasso regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:Lasso",
        clf_defaults={"max_iter": 5000, "l1_ratio": 1.0, "solver": "saga"}, reg_defaults={"max_iter": 5000}),
    ModelSpec(
        "elasticnet", "Elastic-net logistic / elastic-net regression",
        classifier=_SK + "linear_model:LogisticRegression", regressor=_SK + "linear_model:ElasticNet",
        clf_defaults={"max_iter": 5000, "l1_ratio": 0.5, "solver": "saga"}, reg_defaults={"max_iter": 5000},
        aliases=("enet",)),
    ModelSpec(
        "knn", "k-nearest neighbours",
        classifier=_SK + "neighbors:KNeighborsClassifier", regressor=_SK + "neighbors:KNeighborsRegressor",
        seed_param=None, threads_param="n_jobs", class_weight=None, fast=True, scale_target=True),
    ModelSpec(
        "svm", "Support vector machine, RBF kernel (kernel=linear|poly|rbf via --param)",
        classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "rbf"},
        reg_defaults={}, calibrate=True, aliases=("svc", "svr", "svm-rbf"), scale_target=True),
    ModelSpec(
        "svm-linear", "Support vector machine, linear kernel",
        classifier=_SK + "svm:SVC", regressor=_SK + "svm:SVR", defaults={"kernel": "linear"}, calibrate=True,
        scale_target=True),
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
        scale=False, densify=True, fast=True, aliases=("dt", "decision-tree", "cart"), explainer="tree"),
    ModelSpec(
        "rf", "Random forest",
        classifier=_SK + "ensemble:RandomForestClassifier", regressor=_SK + "ensemble:RandomForestRegressor",
        threads_param="n_jobs", scale=False, densify=True, aliases=("random-forest", "randomforest"),
        explainer="tree"),
    ModelSpec(
        "extratrees", "Extremely randomised trees",
        classifier=_SK + "ensemble:ExtraTreesClassifier", regressor=_SK + "ensemble:ExtraTreesRegressor",
        threads_param="n_jobs", scale=False, densify=True, aliases=("et", "extra-trees"), explainer="tree"),
    ModelSpec(
        "hgb", "Histogram gradient boosting (scikit-learn)",
        classifier=_SK + "ensemble:HistGradientBoostingClassifier",
        regressor=_SK + "ensemble:HistGradientBoostingRegressor",
        scale=False, dense=True, fast=True, aliases=("histgb", "hist-gradient-boosting"), explainer="tree",
        early_stopping="native"),
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
        aliases=("neural-net", "nn"), scale_target=True),
    ModelSpec(
        "xgboost", "XGBoost gradient-boosted trees",
        classifier="xgboost:XGBClassifier", regressor="xgboost:XGBRegressor", package="xgboost", install="xgboost-cpu",
        defaults={"n_estimators": 300, "learning_rate": 0.05, "max_depth": 6, "tree_method": "hist",
                  "verbosity": 0},
        threads_param="n_jobs", scale=False, class_weight="sample_weight", fast=True, aliases=("xgb",),
        explainer="xgboost", early_stopping="xgboost"),
    ModelSpec(
        "lightgbm", "LightGBM gradient-boosted trees",
        classifier="lightgbm:LGBMClassifier", regressor="lightgbm:LGBMRegressor",
        package="lightgbm", install="lightgbm",
        defaults={"n_estimators": 300, "learning_rate": 0.05, "verbose": -1, "importance_type": "gain"},
        threads_param="n_jobs", scale=False, fast=True, aliases=("lgbm", "lgb"), explainer="lightgbm",
        early_stopping="lightgbm"),
    ModelSpec(
        "catboost", "CatBoost gradient-boosted trees (categoricals handled natively)",
        classifier="catboost:CatBoostClassifier", regressor="catboost:CatBoostRegressor",
        package="catboost", install="catboost",
        defaults={"iterations": 500, "one_hot_max_size": 64, "verbose": 0, "allow_writing_files": False},
        seed_param="random_seed", threads_param="thread_count", scale=False, native_categorical=True,
        class_weight="auto_class_weights", aliases=("cb", "cat"), explainer="catboost", early_stopping="catboost"),
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
