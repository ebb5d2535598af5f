import os

import pytest
from sqlalchemy import func, select

from marketplace.documents.models import Document
from marketplace.extensions import db

from ..jobs.conftest import job_form, poster, poster_client, poster_coop  # noqa: F401
from ..matrix import documents_world, world  # noqa: F401


def document_count():
    return db.session.scalar(select(func.count()).select_from(Document))


def stored_files(app):
    root = app.config["DOCUMENTS_PATH"]
    return sorted(name for folder in (os.listdir(root) if os.path.isdir(root) else ())
                  for name in os.listdir(os.path.join(root, folder)))


@pytest.fixture(autouse=True)
def _empty_storage(app):
    """Each test starts with no stored file (the storage directory is the run's: tests of
    other folders leave theirs)."""
    root = app.config["DOCUMENTS_PATH"]
    for folder in os.listdir(root):
        for name in os.listdir(os.path.join(root, folder)):
            os.unlink(os.path.join(root, folder, name))
