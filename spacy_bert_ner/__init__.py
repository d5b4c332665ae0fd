"""spacy-bert-ner: transformer named-entity recognition for spaCy."""
__version__ = "0.1.0"
