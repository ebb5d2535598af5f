"""The storage interface, on the local directory and on an S3-compatible server (moto's, run
here in a thread): the same four calls behave the same."""
import io
import os

import pytest

from marketplace.documents.storage import LocalStorage, S3Storage, new_key


@pytest.fixture(scope="module")
def s3_endpoint():
    server_module = pytest.importorskip("moto.server")
    pytest.importorskip("boto3")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "eu-west-2"}.items():
        monkeypatch.setenv(name, value)
    bucket = f"documents-{new_key()[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return S3Storage(bucket, s3_endpoint, "eu-west-2", prefix="marketplace/")


@pytest.fixture
def local(tmp_path):
    return LocalStorage(str(tmp_path / "documents"))


@pytest.mark.parametrize("name", ["local", "s3"])
def test_put_open_exists_delete(request, name):
    storage = request.getfixturevalue(name)
    key = new_key()
    assert not storage.exists(key)
    storage.put(key, io.BytesIO(b"%PDF-1.4 spec"))
    assert storage.exists(key)
    with storage.open(key) if name == "local" else _closing(storage.open(key)) as stream:
        assert stream.read() == b"%PDF-1.4 spec"
    assert [k for k, _ in storage.keys()] == [key]
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # already gone: nothing to do
    with pytest.raises(ValueError):
        storage.put("../escape", io.BytesIO(b"x"))


def _closing(body):
    import contextlib

    return contextlib.closing(body)


def test_a_write_that_fails_half_way_leaves_nothing_under_its_key(local):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise OSError("connection reset")
            return super().read(4)

    key = new_key()
    with pytest.raises(OSError):
        local.put(key, Broken(b"%PDF-1.4 half a file"))
    assert not local.exists(key)
    assert os.listdir(os.path.join(local.root, key[:2])) == []


def test_the_app_uses_s3_when_set(app, s3, monkeypatch, networks):
    """Through the app: an upload goes to the bucket, the download comes from it."""
    from marketplace.documents import services

    monkeypatch.setitem(app.extensions, "documents_storage", s3)
    from ..factories import make_coop, make_document, make_job, make_user
    from ..conftest import login

    coop = make_coop("S3 Co-op", {networks["cotech"]: "active"})
    job = make_job(coop, "public", "open")
    document = make_document("job", job)
    assert s3.exists(document.storage_key)
    client = login(app.test_client(), make_user(coops=[coop]))
    response = client.get(f"/documents/{document.id}/{document.name}")
    assert response.status_code == 200 and response.data == b"%PDF-1.4\n%%EOF\n"
    services.remove(document)
    from marketplace.extensions import db
    db.session.commit()
    assert not s3.exists(document.storage_key)
