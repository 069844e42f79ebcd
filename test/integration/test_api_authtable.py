#!/usr/bin/env python3
"""Every registered API method, called three ways against a real marketd:
with a bad session, as a plain user without rights on the target, and as
the target's owner (oneadmin for what only oneadmin may own or do).

The methods come from system.listMethods (system.* left out); TABLE holds
one row per method: how to build its arguments, and the expected outcome of
each call: OK, or the error code of the failure (256 authentication, 512
authorization, 1024 no such object...).  A registered method without a row
fails the test, and so does a row for a method that is not registered: a
new method must say who may call it.

Each row's arguments are built once, as the owner, and the three calls use
them in that order, so the first two must change nothing the third needs."""

import sys
sys.dont_write_bytecode = True

import harness
from harness import AUTHENTICATION, AUTHORIZATION, NO_EXISTS, tmpl

OK = "ok"
MISSING = 99999        # an id no object has
D = None
F = None


class Fixtures:
    """Who calls, and what they call it on.

    owner and stranger are plain users, each in a group of its own;
    market `shared` lets everyone use it (where owner allocates its apps),
    market `closed` and the admin's objects keep the default permissions."""

    def __init__(self, d):
        self.d = d
        self.owner_gid = d.group("authtable-owners")
        self.stranger_gid = d.group("authtable-strangers")
        self.owner_uid, self.owner = d.user("authtable-owner", groups=[self.owner_gid])
        self.stranger_uid, self.stranger = d.user("authtable-stranger",
                                                  groups=[self.stranger_gid])
        self.admin = d.session
        self.shared = d.market("authtable-shared")
        d.ok("one.market.chmod", self.shared, *harness.chmod_args("644"))
        self.closed = d.market("authtable-closed")
        self.n = 0

    def name(self, what):
        self.n += 1
        return "authtable-%s-%d" % (what, self.n)

    # Objects, each new (so that a delete or a chown has its own).
    def market(self):
        return self.d.market(self.name("market"))

    def zone(self):
        return self.d.ok("one.zone.allocate", tmpl(NAME=self.name("zone"),
                                                   ENDPOINT="http://127.0.0.1:9/RPC2"))

    def app(self):
        return self.d.app(self.name("app"), self.shared, session=self.owner)

    def vmtemplate(self):
        return self.d.ok("one.template.allocate", tmpl(NAME=self.name("vt"), CPU="1"),
                         session=self.owner)

    def document(self):
        return self.d.ok("one.document.allocate", tmpl(NAME=self.name("doc")), 100,
                         session=self.owner)

    def datastore(self):
        return self.d.ok("one.datastore.allocate", tmpl(NAME=self.name("ds")))

    def image(self):
        return self.d.image(self.name("img"))

    def user(self):
        return self.d.user(self.name("user"))[0]

    def group(self):
        return self.d.group(self.name("group"))


def chmod(oid):
    return (oid,) + tuple(harness.chmod_args("600"))


# method: (arguments(F), who owns the target ("owner" or "admin"),
#          expected as stranger, expected as the owner)
# Unauthenticated, every method must answer AUTHENTICATION.
TABLE = {
    # markets: only oneadmin makes and changes them
    "one.market.allocate": (lambda f: (tmpl(NAME=f.name("m"), MARKET_MAD="http",
                                            BASE_URL="http://127.0.0.1/x",
                                            PUBLIC_DIR=f.d.public_dir),),
                            "admin", AUTHORIZATION, OK),
    "one.market.delete": (lambda f: (f.market(),), "admin", AUTHORIZATION, OK),
    "one.market.update": (lambda f: (f.closed, tmpl(A="1"), 1), "admin", AUTHORIZATION, OK),
    "one.market.chmod": (lambda f: chmod(f.closed), "admin", AUTHORIZATION, OK),
    "one.market.chown": (lambda f: (f.market(), 0, 0), "admin", AUTHORIZATION, OK),
    "one.market.rename": (lambda f: (f.market(), f.name("renamed")), "admin",
                          AUTHORIZATION, OK),
    "one.market.info": (lambda f: (f.closed,), "admin", AUTHORIZATION, OK),
    "one.market.enable": (lambda f: (f.closed, True), "admin", AUTHORIZATION, OK),
    "one.market.monitor": (lambda f: (f.closed,), "admin", AUTHORIZATION, OK),
    "one.marketpool.info": (lambda f: (), "admin", OK, OK),
    # apps: the owner's, in a market everyone may use
    "one.marketapp.allocate": (lambda f: (tmpl(NAME=f.name("a"), TYPE="VMTEMPLATE",
                                               ORIGIN_ID="0"), f.closed),
                               "admin", AUTHORIZATION, OK),
    "one.marketapp.delete": (lambda f: (f.app(),), "owner", AUTHORIZATION, OK),
    "one.marketapp.update": (lambda f: (f.app(), tmpl(A="1"), 1), "owner", AUTHORIZATION, OK),
    "one.marketapp.chmod": (lambda f: chmod(f.app()), "owner", AUTHORIZATION, OK),
    "one.marketapp.chown": (lambda f: (f.app(), f.owner_uid, f.owner_gid), "owner",
                            AUTHORIZATION, OK),
    "one.marketapp.rename": (lambda f: (f.app(), f.name("renamed")), "owner",
                             AUTHORIZATION, OK),
    "one.marketapp.info": (lambda f: (f.app(),), "owner", AUTHORIZATION, OK),
    "one.marketapp.enable": (lambda f: (f.app(), False), "owner", AUTHORIZATION, OK),
    "one.marketapp.lock": (lambda f: (f.app(), 1, False), "owner", AUTHORIZATION, OK),
    "one.marketapp.unlock": (lambda f: (f.app(),), "owner", AUTHORIZATION, OK),
    "one.marketapp.export": (lambda f: (f.app(), 1), "owner", AUTHORIZATION, OK),
    "one.marketapppool.info": (lambda f: (-2, -1, -1), "owner", OK, OK),
    # datastores and images: oneadmin's
    "one.datastore.allocate": (lambda f: (tmpl(NAME=f.name("ds")),), "admin",
                               AUTHORIZATION, OK),
    "one.datastore.delete": (lambda f: (f.datastore(),), "admin", AUTHORIZATION, OK),
    "one.datastore.info": (lambda f: (f.datastore(),), "admin", AUTHORIZATION, OK),
    "one.datastore.chmod": (lambda f: chmod(f.datastore()), "admin", AUTHORIZATION, OK),
    "one.datastore.chown": (lambda f: (f.datastore(), 0, 0), "admin", AUTHORIZATION, OK),
    "one.datastore.rename": (lambda f: (f.datastore(), f.name("renamed")), "admin",
                             AUTHORIZATION, OK),
    "one.datastorepool.info": (lambda f: (), "admin", OK, OK),
    "one.image.allocate": (lambda f: (tmpl(NAME=f.name("i"), PATH="/etc/hostname"), 1),
                           "admin", AUTHORIZATION, OK),
    "one.image.delete": (lambda f: (f.image(),), "admin", AUTHORIZATION, OK),
    "one.image.info": (lambda f: (f.image(),), "admin", AUTHORIZATION, OK),
    "one.image.update": (lambda f: (f.image(), tmpl(A="1"), 1), "admin", AUTHORIZATION, OK),
    "one.image.chmod": (lambda f: chmod(f.image()), "admin", AUTHORIZATION, OK),
    "one.image.chown": (lambda f: (f.image(), 0, 0), "admin", AUTHORIZATION, OK),
    "one.image.rename": (lambda f: (f.image(), f.name("renamed")), "admin", AUTHORIZATION, OK),
    "one.image.lock": (lambda f: (f.image(), 1, False), "admin", AUTHORIZATION, OK),
    "one.image.unlock": (lambda f: (f.image(),), "admin", AUTHORIZATION, OK),
    "one.imagepool.info": (lambda f: (), "admin", OK, OK),
    # VM templates and documents: anyone may make their own
    "one.template.allocate": (lambda f: (tmpl(NAME=f.name("t")),), "owner", OK, OK),
    "one.template.clone": (lambda f: (f.vmtemplate(), f.name("clone")), "owner",
                           AUTHORIZATION, OK),
    "one.template.info": (lambda f: (f.vmtemplate(),), "owner", AUTHORIZATION, OK),
    "one.template.delete": (lambda f: (f.vmtemplate(),), "owner", AUTHORIZATION, OK),
    "one.template.update": (lambda f: (f.vmtemplate(), tmpl(A="1"), 1), "owner",
                            AUTHORIZATION, OK),
    "one.template.chmod": (lambda f: chmod(f.vmtemplate()), "owner", AUTHORIZATION, OK),
    "one.template.chown": (lambda f: (f.vmtemplate(), f.owner_uid, f.owner_gid), "owner",
                           AUTHORIZATION, OK),
    "one.template.rename": (lambda f: (f.vmtemplate(), f.name("renamed")), "owner",
                            AUTHORIZATION, OK),
    "one.templatepool.info": (lambda f: (-2, -1, -1), "owner", OK, OK),
    "one.document.allocate": (lambda f: (tmpl(NAME=f.name("d")), 100), "owner", OK, OK),
    "one.document.clone": (lambda f: (f.document(), f.name("clone")), "owner",
                           AUTHORIZATION, OK),
    "one.document.info": (lambda f: (f.document(),), "owner", AUTHORIZATION, OK),
    "one.document.delete": (lambda f: (f.document(),), "owner", AUTHORIZATION, OK),
    "one.document.update": (lambda f: (f.document(), tmpl(A="1"), 1), "owner",
                            AUTHORIZATION, OK),
    "one.document.chmod": (lambda f: chmod(f.document()), "owner", AUTHORIZATION, OK),
    "one.document.chown": (lambda f: (f.document(), f.owner_uid, f.owner_gid), "owner",
                           AUTHORIZATION, OK),
    "one.document.rename": (lambda f: (f.document(), f.name("renamed")), "owner",
                            AUTHORIZATION, OK),
    "one.documentpool.info": (lambda f: (-2, -1, -1, 100), "owner", OK, OK),
    # Service instances and bindings need a broker (test_e2e_osb.py): here
    # only that the session and the target are checked first.
    "one.serviceinstance.allocate": (lambda f: (tmpl(NAME=f.name("si"), APP=str(MISSING)),),
                                     "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.info": (lambda f: (MISSING,), "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.update": (lambda f: (MISSING, tmpl(PARAMETERS="{}")), "owner",
                                   NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.delete": (lambda f: (MISSING,), "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.chmod": (lambda f: chmod(MISSING), "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.chown": (lambda f: (MISSING, 0, 0), "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstance.rename": (lambda f: (MISSING, "x"), "owner", NO_EXISTS, NO_EXISTS),
    "one.serviceinstancepool.info": (lambda f: (), "owner", OK, OK),
    "one.servicebinding.allocate": (lambda f: (MISSING,), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebinding.info": (lambda f: (MISSING,), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebinding.delete": (lambda f: (MISSING,), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebinding.chmod": (lambda f: chmod(MISSING), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebinding.chown": (lambda f: (MISSING, 0, 0), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebinding.rename": (lambda f: (MISSING, "x"), "owner", NO_EXISTS, NO_EXISTS),
    "one.servicebindingpool.info": (lambda f: (), "owner", OK, OK),
    # users and groups: oneadmin's business, but a user's own info and password
    "one.user.allocate": (lambda f: (f.name("u"), "pw", "core", []), "admin",
                          AUTHORIZATION, OK),
    "one.user.info": (lambda f: (f.owner_uid,), "owner", AUTHORIZATION, OK),
    "one.user.passwd": (lambda f: (f.owner_uid, f.owner.split(":", 1)[1]), "owner",
                        AUTHORIZATION, OK),
    "one.user.delete": (lambda f: (f.user(),), "admin", AUTHORIZATION, OK),
    "one.user.chgrp": (lambda f: (f.user(), f.owner_gid), "admin", AUTHORIZATION, OK),
    "one.userpool.info": (lambda f: (), "admin", OK, OK),
    "one.group.allocate": (lambda f: (f.name("g"),), "admin", AUTHORIZATION, OK),
    "one.group.info": (lambda f: (f.owner_gid,), "owner", AUTHORIZATION, OK),
    "one.group.delete": (lambda f: (f.group(),), "admin", AUTHORIZATION, OK),
    "one.grouppool.info": (lambda f: (), "admin", OK, OK),
    # zones: oneadmin's; everyone reads them.  The replication methods
    # answer the master's server user only (test_e2e_federation.py).
    "one.zone.allocate": (lambda f: (tmpl(NAME=f.name("z"), ENDPOINT="http://127.0.0.1:9/RPC2"),),
                          "admin", AUTHORIZATION, OK),
    "one.zone.info": (lambda f: (0,), "owner", OK, OK),
    "one.zone.update": (lambda f: (f.zone(), 'ENDPOINT="http://127.0.0.1:8/RPC2"', 1), "admin",
                        AUTHORIZATION, OK),
    "one.zone.rename": (lambda f: (f.zone(), f.name("zr")), "admin", AUTHORIZATION, OK),
    "one.zone.delete": (lambda f: (f.zone(),), "admin", AUTHORIZATION, OK),
    "one.zonepool.info": (lambda f: (), "owner", OK, OK),
    "one.zone.raftstatus": (lambda f: (), "owner", OK, OK),
    "one.zone.fedlog": (lambda f: (1, "0", 0, 10), "admin", AUTHORIZATION, AUTHORIZATION),
    "one.zone.fedsnapshot": (lambda f: ("user_pool", -1, 10), "admin", AUTHORIZATION,
                             AUTHORIZATION),
    "one.zone.fedwrite": (lambda f: ("<CHANGES/>",), "admin", AUTHORIZATION, AUTHORIZATION),
    "one.zone.fednextoid": (lambda f: ("user_pool", 0), "admin", AUTHORIZATION, AUTHORIZATION),
    "one.system.version": (lambda f: (), "owner", OK, OK),
    "one.system.config": (lambda f: (), "admin", AUTHORIZATION, OK),
}


def setUpModule():
    global D, F
    D = harness.module_daemon(name="authtable")
    F = Fixtures(D)


def tearDownModule():
    harness.stop_module_daemon(D)


def outcome(reply):
    """OK, or the failure's error code."""
    if isinstance(reply, list) and len(reply) >= 3 and reply[0] is True:
        return OK
    return reply[2]


class AuthTable(harness.TestCase):

    def registered(self):
        return sorted(m for m in D.proxy().system.listMethods() if not m.startswith("system."))

    def test_table_names_every_method(self):
        registered = set(self.registered())
        self.assertEqual(sorted(registered - set(TABLE)), [],
                         "registered methods without a row in TABLE")
        self.assertEqual(sorted(set(TABLE) - registered), [],
                         "TABLE rows for methods that are not registered")

    def test_every_method(self):
        # one.user.passwd last: it drops the owner's cached session, and by
        # then the table's bad sessions have this client's address throttled
        # (only cached sessions get through).
        for method in sorted(self.registered(), key=lambda m: m == "one.user.passwd"):
            if method not in TABLE:
                continue        # test_table_names_every_method says which
            build, owner, as_stranger, as_owner = TABLE[method]
            with self.subTest(method=method):
                args = build(F)
                bad = "%s:wrong-password" % ("oneadmin" if owner == "admin"
                                             else F.owner.split(":")[0])
                got = [outcome(D.rpc(method, *args, session=bad)),
                       outcome(D.rpc(method, *args, session=F.stranger)),
                       outcome(D.rpc(method, *args,
                                     session=F.admin if owner == "admin" else F.owner))]
                self.assertEqual(got, [AUTHENTICATION, as_stranger, as_owner],
                                 "%s%r: [unauthenticated, stranger, %s]"
                                 % (method, args, owner))
        self.assertTrue(D.alive())


if __name__ == "__main__":
    harness.main()
