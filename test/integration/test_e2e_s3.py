#!/usr/bin/env python3
"""End to end: marketd with the real s3 driver and a real S3 server.

The daemon runs the built drivers ($MKT_BUILDDIR/drivers); s3rver (see
test/s3rver.py) listens on 127.0.0.1.  An image becomes an app of an s3
market (the driver's import, multipart with READ_LENGTH=1), comes back out
as an image of another datastore (the driver's export) byte for byte, and
is deleted; a market with an unknown key id, or V2 with a wrong secret,
puts its app in ERROR with an "access denied" message that holds no
secret; the secret is hidden from users other than the owner and
oneadmin's group in one.market.info.

Standalone:  MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_s3.py
"""

import sys
sys.dont_write_bytecode = True

import os
import shutil
import tempfile

import harness
from harness import APP_ERROR, APP_READY, NO_EXISTS, tmpl, xint, xtext
from test_e2e_http import HttpDaemon, md5_file, same_file, write

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import s3rver  # noqa: E402

MB = 1 << 20
IMAGE_READY, IMAGE_ERROR = 1, 5

D = None
S3 = None
TMP = None
DS2 = None


def setUpModule():
    global D, S3, TMP, DS2
    TMP = tempfile.mkdtemp(prefix="mkt-it-e2e-s3-")
    try:
        S3 = s3rver.S3rver(harness.BUILDDIR, os.path.join(TMP, "s3")).start()
        D = HttpDaemon(name="e2e-s3")
        D.start()
        DS2 = D.ok("one.datastore.allocate", tmpl(NAME="second", BASE_PATH=os.path.join(TMP, "ds2")))
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        if D is not None:
            harness.stop_module_daemon(D)
    finally:
        if S3 is not None:
            S3.stop()
        if TMP:
            if os.environ.get("MKT_TEST_KEEP"):
                sys.stderr.write("kept %s\n" % TMP)
            else:
                shutil.rmtree(TMP, ignore_errors=True)


_n = iter(range(1, 1 << 30))


def name(prefix):
    return "%s-%d" % (prefix, next(_n))


def s3_market(**override):
    attrs = dict(NAME=name("s3"), MARKET_MAD="s3", ACCESS_KEY_ID=s3rver.KEY,
                 SECRET_ACCESS_KEY=s3rver.SECRET, REGION="us-east-1", BUCKET="e2e",
                 ENDPOINT=S3.url(), FORCE_PATH_STYLE="YES", READ_LENGTH="1")
    attrs.update(override)
    return D.ok("one.market.allocate", tmpl(**attrs))


def message(x):
    return x.findtext("TEMPLATE/ERROR") or ""


class S3RoundTrip(harness.TestCase):

    def test_image_to_app_to_image(self):
        market = s3_market()
        original = write(os.path.join(TMP, "random-5m.img"), os.urandom(5 * MB + 17))
        iid = D.ok("one.image.allocate", tmpl(NAME=name("img"), PATH=original), 1)
        img = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=60)
        self.assertEqual(xint(img, "STATE"), IMAGE_READY, message(img))

        aid = D.ok("one.marketapp.allocate", tmpl(NAME=name("app"), ORIGIN_ID=str(iid)), market)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
        self.assertEqual(xint(app, "STATE"), APP_READY, message(app))
        self.assertEqual(xtext(app, "SOURCE"), "s3://e2e/marketapp-%d" % aid)
        self.assertEqual(xtext(app, "MD5"), md5_file(original))
        self.assertEqual(xint(app, "SIZE"), 6)
        with open(S3.object_path("e2e", "marketapp-%d" % aid), "rb") as f, open(original, "rb") as o:
            self.assertTrue(f.read() == o.read(), "the object is the image")
        self.assertEqual(S3.uploads("e2e"), [])

        eid = D.ok("one.marketapp.export", aid, DS2, name("exp"))
        exp = D.wait_state("image", eid, (IMAGE_READY, IMAGE_ERROR), timeout=60)
        self.assertEqual(xint(exp, "STATE"), IMAGE_READY, message(exp))
        self.assertTrue(same_file(original, xtext(exp, "SOURCE")), "exported bytes identical")

        D.ok("one.marketapp.delete", aid)
        self.wait_for(lambda: D.rpc("one.marketapp.info", aid)[2] == NO_EXISTS,
                      timeout=15, what="app %d to disappear" % aid)
        self.wait_for(lambda: not S3.has_object("e2e", "marketapp-%d" % aid),
                      timeout=15, what="the object to be deleted")

    def check_denied(self, market, code):
        src = write(os.path.join(TMP, name("denied")), os.urandom(1000))
        aid = D.ok("one.marketapp.allocate", tmpl(NAME=name("app"), IMPORT_SOURCE=src), market)
        app = D.wait_state("marketapp", aid, (APP_READY, APP_ERROR), timeout=60)
        self.assertEqual(xint(app, "STATE"), APP_ERROR)
        self.assertIn("access denied", message(app))
        self.assertIn(code, message(app))
        self.assertNotIn("wrong-secret", message(app))

    def test_unknown_key_id(self):
        self.check_denied(s3_market(ACCESS_KEY_ID="NOBODY", SECRET_ACCESS_KEY="wrong-secret"),
                          "InvalidAccessKeyId")

    def test_wrong_secret_v2(self):
        self.check_denied(s3_market(SIGNATURE_VERSION="v2", BUCKET="e2e-v2",
                                    SECRET_ACCESS_KEY="wrong-secret"), "SignatureDoesNotMatch")

    def test_secret_hidden_from_other_users(self):
        market = s3_market(SECRET_ACCESS_KEY="owner-only-secret")
        D.ok("one.market.chmod", market, 1, 1, 0, 1, 0, 0, 1, 0, 0)
        self.assertEqual(D.info("market", market).findtext("TEMPLATE/SECRET_ACCESS_KEY"),
                         "owner-only-secret", "oneadmin sees it")
        uid, session = D.user(name("user"))
        xml = D.info("market", market, session=session)
        self.assertEqual(xml.findtext("TEMPLATE/SECRET_ACCESS_KEY"), "****")
        self.assertEqual(xml.findtext("TEMPLATE/ACCESS_KEY_ID"), s3rver.KEY)
        pool = D.rpc("one.marketpool.info", -2, -1, -1, session=session)
        self.assertTrue(pool[0], pool)
        self.assertNotIn("owner-only-secret", pool[1])


if __name__ == "__main__":
    harness.main()
