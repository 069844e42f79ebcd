#!/usr/bin/env python3
"""marketctl against a real marketd.

The CLI finds the daemon through ONE_XMLRPC and the credentials through
ONE_AUTH, like the OpenNebula CLI.  Effects are checked through the API
(xmlrpc.client), not through the CLI itself."""

import sys
sys.dont_write_bytecode = True

import json
import os
import re
import time
import xml.etree.ElementTree as ET

import harness
from harness import NO_EXISTS, octal_perms, perms, pool_ids, tmpl, xint, xml, xtext

D = None
ID_RE = re.compile(r"^ID: (\d+)\s*$", re.M)


def setUpModule():
    global D
    harness.marketctl_path()
    D = harness.module_daemon(name="cli")


def tearDownModule():
    harness.stop_module_daemon(D)


def write(name, text):
    path = os.path.join(D.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def market_file(name, **extra):
    return write(name + ".tmpl",
                 tmpl(("NAME", name), ("MARKET_MAD", "http"),
                      ("BASE_URL", "http://127.0.0.1/" + name),
                      ("PUBLIC_DIR", D.public_dir), *extra.items()))


def canon(text):
    return ET.canonicalize(xml_data=text, strip_text=True)


class CLITestCase(harness.TestCase):

    def run_ok(self, *args, **kw):
        p = D.cli(*args, **kw)
        self.assertEqual(p.returncode, 0, "marketctl %s failed (%d)\nstdout: %s\nstderr: %s"
                         % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return p

    def run_fail(self, rc, *args, **kw):
        p = D.cli(*args, **kw)
        self.assertEqual(p.returncode, rc, "marketctl %s: expected exit %d, got %d\n"
                         "stdout: %s\nstderr: %s" % (" ".join(map(str, args)), rc,
                                                     p.returncode, p.stdout, p.stderr))
        return p

    def created_id(self, p):
        m = ID_RE.search(p.stdout)
        self.assertIsNotNone(m, "no 'ID: <n>' line in %r" % p.stdout)
        return int(m.group(1))

    def create_market(self, name, **extra):
        return self.created_id(self.run_ok("market", "create", market_file(name, **extra)))


class Market(CLITestCase):

    def test_create(self):
        mid = self.create_market("cli-create", FOO="bar")
        m = D.info("market", mid)
        self.assertEqual(xtext(m, "NAME"), "cli-create")
        self.assertEqual(xtext(m, "MARKET_MAD"), "http")
        self.assertEqual(xtext(m, "TEMPLATE/FOO"), "bar")

    def test_list(self):
        self.create_market("cli-list-a")
        self.create_market("cli-list-b")
        p = self.run_ok("market", "list")
        self.assertIn("cli-list-a", p.stdout)
        self.assertIn("cli-list-b", p.stdout)

    def test_list_xml(self):
        mid = self.create_market("cli-list-xml")
        p = self.run_ok("market", "list", "--xml")
        self.assertIn(mid, pool_ids(p.stdout.strip(), "MARKETPLACE_POOL", "MARKETPLACE"))

    def test_list_json(self):
        self.create_market("cli-list-json")
        p = self.run_ok("market", "list", "--json")
        data = json.loads(p.stdout)
        self.assertIn("cli-list-json", json.dumps(data))

    def test_show_by_id_and_name(self):
        mid = self.create_market("cli-show")
        for ref in (str(mid), "cli-show"):
            with self.subTest(ref=ref):
                p = self.run_ok("market", "show", ref)
                self.assertIn("cli-show", p.stdout)
                self.assertIn("http", p.stdout)
                self.assertIn(str(mid), p.stdout)

    def test_show_xml_is_raw(self):
        mid = self.create_market("cli-show-xml")
        # The monitor loop may start the new market's first pass (its
        # MONITORING element) between two reads: the CLI's output is
        # compared with a reply that did not change around it.
        for _ in range(20):
            before = canon(D.ok("one.market.info", mid))
            p = self.run_ok("market", "show", str(mid), "--xml")
            if canon(D.ok("one.market.info", mid)) == before:
                break
            time.sleep(0.1)
        self.assertEqual(canon(p.stdout.strip()), before)

    def test_show_json(self):
        mid = self.create_market("cli-show-json")
        p = self.run_ok("market", "show", str(mid), "--json")
        data = json.loads(p.stdout)
        text = json.dumps(data)
        self.assertIn("cli-show-json", text)
        self.assertIn("http://127.0.0.1/cli-show-json", text)

    def test_update(self):
        mid = self.create_market("cli-update")
        self.run_ok("market", "update", str(mid), market_file("cli-update", FOO="bar"))
        t = D.info("market", mid).find("TEMPLATE")
        self.assertEqual(xtext(t, "FOO"), "bar")
        self.assertEqual(xtext(t, "BASE_URL"), "http://127.0.0.1/cli-update")

    def test_rename(self):
        mid = self.create_market("cli-rename")
        self.run_ok("market", "rename", str(mid), "cli-renamed")
        self.assertEqual(xtext(D.info("market", mid), "NAME"), "cli-renamed")

    def test_chmod(self):
        mid = self.create_market("cli-chmod")
        self.run_ok("market", "chmod", str(mid), "644")
        self.assertEqual(perms(D.info("market", mid)), octal_perms("644"))

    def test_disable_enable(self):
        mid = self.create_market("cli-enable")
        self.run_ok("market", "disable", str(mid))
        self.assertEqual(xint(D.info("market", mid), "STATE"), 1)
        self.run_ok("market", "enable", str(mid))
        self.assertEqual(xint(D.info("market", mid), "STATE"), 0)

    def test_delete(self):
        mid = self.create_market("cli-delete")
        self.run_ok("market", "delete", str(mid))
        harness.assert_failure(D.rpc("one.market.info", mid), "one.market.info",
                               NO_EXISTS, resp_id=mid)


class App(CLITestCase):

    @classmethod
    def setUpClass(cls):
        cls.mid = D.market("cli-apps")

    def create_app(self, name, **extra):
        f = write(name + ".app", tmpl(("NAME", name), ("TYPE", "VMTEMPLATE"),
                                      ("ORIGIN_ID", "0"), *extra.items()))
        return self.created_id(self.run_ok("app", "create", f, "--market", str(self.mid)))

    def test_create(self):
        aid = self.create_app("cli-app", DESCRIPTION="made by the cli")
        a = D.info("marketapp", aid)
        self.assertEqual(xtext(a, "NAME"), "cli-app")
        self.assertEqual(xint(a, "MARKETPLACE_ID"), self.mid)
        self.assertEqual(xtext(a, "DESCRIPTION"), "made by the cli")

    def test_list_and_show(self):
        aid = self.create_app("cli-app-list")
        p = self.run_ok("app", "list")
        self.assertIn("cli-app-list", p.stdout)
        p = self.run_ok("app", "show", str(aid))
        self.assertIn("cli-app-list", p.stdout)
        p = self.run_ok("app", "show", str(aid), "--xml")
        a = xml(p.stdout.strip())
        self.assertEqual(a.tag, "MARKETPLACEAPP")
        self.assertEqual(xint(a, "ID"), aid)
        p = self.run_ok("app", "list", "--json")
        self.assertIn("cli-app-list", json.dumps(json.loads(p.stdout)))

    def test_lock_unlock(self):
        aid = self.create_app("cli-app-lock")
        self.run_ok("app", "lock", str(aid))
        lock = D.info("marketapp", aid).find("LOCK")
        self.assertIsNotNone(lock, "app not locked")
        self.assertIn(xint(lock, "LOCKED"), (1, 2, 3, 4))
        self.run_ok("app", "unlock", str(aid))
        self.assertIsNone(D.info("marketapp", aid).find("LOCK"))

    def test_delete(self):
        aid = self.create_app("cli-app-del")
        self.run_ok("app", "delete", str(aid))
        self.wait_for(lambda: D.rpc("one.marketapp.info", aid)[0] is False,
                      what="app %d to disappear" % aid)

    def test_locked_app_delete_fails(self):
        aid = self.create_app("cli-app-locked")
        self.run_ok("app", "lock", str(aid))
        p = self.run_fail(1, "app", "delete", str(aid))
        self.assertIn("is locked", p.stderr)
        D.info("marketapp", aid)


class UsersGroups(CLITestCase):

    def test_user_create_and_list(self):
        self.run_ok("user", "create", "cli-user", "cli-pass-1")
        users = {xtext(u, "NAME"): xint(u, "ID")
                 for u in xml(D.ok("one.userpool.info")).findall("USER")}
        self.assertIn("cli-user", users)
        me = D.info("user", -1, session="cli-user:cli-pass-1")
        self.assertEqual(xint(me, "ID"), users["cli-user"])
        p = self.run_ok("user", "list")
        self.assertIn("oneadmin", p.stdout)
        self.assertIn("cli-user", p.stdout)
        self.assertNotIn("cli-pass-1", p.stdout)

    def test_group_create(self):
        self.run_ok("group", "create", "cli-group")
        names = [xtext(g, "NAME") for g in xml(D.ok("one.grouppool.info")).findall("GROUP")]
        self.assertIn("cli-group", names)

    def test_as_other_user(self):
        D.user("cli-plain", password="plain-pw")
        auth = write("plain_auth", "cli-plain:plain-pw\n")
        p = self.run_fail(1, "market", "create", market_file("cli-plain-m"), auth_file=auth)
        self.assertIn("Not authorized", p.stderr)


class Errors(CLITestCase):

    def test_server_error_missing_object(self):
        p = self.run_fail(1, "market", "show", "99999")
        self.assertIn("Error getting marketplace [99999]", p.stderr)

    def test_server_error_allocate(self):
        f = write("nomad.tmpl", tmpl(NAME="cli-nomad"))
        p = self.run_fail(1, "market", "create", f)
        self.assertIn("No marketplace driver (MARKET_MAD) in template", p.stderr)

    def test_server_error_duplicate(self):
        self.create_market("cli-dup")
        p = self.run_fail(1, "market", "create", market_file("cli-dup"))
        self.assertIn("NAME is already taken", p.stderr)

    def test_bad_credentials(self):
        auth = write("bad_auth", "oneadmin:definitely-wrong\n")
        p = self.run_fail(1, "market", "list", auth_file=auth)
        self.assertIn("User couldn't be authenticated", p.stderr)

    def test_daemon_not_running(self):
        port = harness.closed_port()
        p = self.run_fail(1, "market", "list",
                          endpoint="http://127.0.0.1:%d/RPC2" % port)
        self.assertIn("cannot connect", p.stderr.lower())

    def test_missing_file(self):
        p = D.cli("market", "create", os.path.join(D.dir, "no-such-file"))
        self.assertIn(p.returncode, (1, 2), p.stderr)
        self.assertTrue(p.stderr.strip())

    def test_usage_errors(self):
        for args in (["nosuchcommand"],
                     ["market", "nosuchverb"],
                     ["market", "show"],
                     ["market", "chmod", "100"],
                     ["--no-such-option", "market", "list"],
                     ["market", "list", "--no-such-option"],
                     ["app", "create", market_file("cli-usage")]):
            with self.subTest(args=args):
                p = self.run_fail(2, *args)
                self.assertTrue(p.stderr.strip(), "a usage error should say something")


if __name__ == "__main__":
    harness.main(needs=("marketd", "marketctl"))
