"""The plugin's commands inside spaCy's CLI, as `spacy bert-ner COMMAND`.

Loaded through the `spacy_cli` entry point when `spacy` starts."""
from spacy.cli._util import app as spacy_app

from .cli import app

spacy_app.add_typer(app, name="bert-ner", help="spacy-bert-ner: convert CoNLL, train, evaluate, plot")
