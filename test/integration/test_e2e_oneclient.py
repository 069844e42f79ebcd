#!/usr/bin/env python3
"""End to end: the calls OpenNebula's own `onemarketapp` makes, replayed.

`onemarketapp export` and `onemarketapp vm-template import` /
`service-template import` do most of their work client-side, in the Ruby
OCA (OpenNebula 6.10): they create the VM templates and OneFlow documents
themselves with one.template.allocate and one.document.allocate, and
publish a template with its disks as apps with one.marketapp.allocate.
Each test below sends, through the real daemon with the real http driver
and nginx, the exact sequence of calls of one CLI flow, with the
arguments and attribute names the Ruby code sends; each step names the
Ruby function it mirrors (src/oca/ruby/opennebula/marketplaceapp_ext.rb,
template_ext.rb, flow/service_template_ext.rb, flow/service_template.rb,
document.rb, document_json.rb; src/cli/one_helper/onemarketapp_helper.rb).
Then it checks the objects the flow leaves, as `onetemplate show` and
`oneflow-template show` would read them.

The flows chain like a user's session: a VM template with two disks is
published into an http market (vm-template import), a service template
whose roles use it is published too (service-template import), and the
apps they became are exported back into a datastore (export), along with
an IMAGE app that carries a VMTEMPLATE64 like every app of OpenNebula's
public catalog.

Python 3 standard library only.  Standalone:
    MKT_BUILDDIR=. MKT_SRCDIR=. python3 test/integration/test_e2e_oneclient.py
"""

import sys
sys.dont_write_bytecode = True

import base64
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time

import harness
from harness import (ALLOCATE, APP_READY, AUTHORIZATION, NO_EXISTS, ET, tmpl, xint, xml,
                     xtext)

IMAGE_TYPES = ["OS", "CDROM", "DATABLOCK", "KERNEL", "RAMDISK", "CONTEXT"]  # Image::IMAGE_TYPES
APP_TYPE = {"IMAGE": 1, "VMTEMPLATE": 2, "SERVICE_TEMPLATE": 3}
SERVICE_TEMPLATE_TYPE = 101        # OpenNebula::ServiceTemplate::DOCUMENT_TYPE
ONE_VERSION = "6.10.0"             # OpenNebula::VERSION, as the CLI sends it
PRIVATE_MADS = ("http", "s3")      # OneMarketPlaceAppHelper::MARKETS

sys.path.insert(0, os.path.join(harness.SRCDIR, "test"))
import nginx  # noqa: E402
from nginx import Nginx  # noqa: E402
# The daemon on the real drivers, without proxy variables.
from test_e2e_http import (DRIVERS, HttpDaemon, IMAGE_ERROR, IMAGE_READY,  # noqa: E402
                           md5_file)


D = None
WEB = None
MARKET = None
DS2 = None
TMP = None
FLOW = {}       # what one flow leaves for the next (ids and names)


def setUpModule():
    global D, WEB, MARKET, DS2, TMP
    if not os.access(os.path.join(DRIVERS, "http", "import"), os.X_OK):
        raise harness.HarnessError("%s/http/import is missing: build first (make)" % DRIVERS)
    TMP = tempfile.mkdtemp(prefix="mkt-it-oneclient-")
    try:
        D = HttpDaemon(name="oneclient")
        D.start()
        WEB = Nginx(os.path.join(TMP, "nginx"), D.public_dir, []).start()
        MARKET = D.ok("one.market.allocate",
                      tmpl(NAME="private", MARKET_MAD="http", BASE_URL=WEB.url(),
                           PUBLIC_DIR=D.public_dir))
        DS2 = D.ok("one.datastore.allocate",
                   tmpl(NAME="exports", BASE_PATH=os.path.join(TMP, "ds2")))
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    try:
        if D is not None:
            harness.stop_module_daemon(D)
    finally:
        if WEB is not None:
            WEB.stop()
        nginx.stop_all()
        if TMP:
            if os.environ.get("MKT_TEST_KEEP"):
                sys.stderr.write("kept %s\n" % TMP)
            else:
                shutil.rmtree(TMP, ignore_errors=True)


# -- what the Ruby OCA computes client-side ------------------------------------------

def hex10():
    """SecureRandom.hex[0..9]"""
    return secrets.token_hex(5)


def b64(text):
    """Base64.strict_encode64"""
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    """Base64.decode64"""
    return base64.b64decode(text).decode()


def rquote(value):
    return '"%s"' % value.replace('"', '\\"')


def template_str(elem):
    """XMLElement#template_str (template_like_str('TEMPLATE')): each child
    as NAME="value", a vector as NAME=[ A="x", B="y" ], one per line."""
    lines = []
    for child in elem.find("TEMPLATE"):
        if len(child):
            subs = ",\n".join("  %s=%s" % (s.tag, rquote(s.text or "")) for s in child)
            lines.append("%s=[\n%s ]" % (child.tag, subs))
        else:
            lines.append("%s=%s" % (child.tag, rquote(child.text or "")))
    return "\n".join(lines)


def template_xml(elem):
    """XMLElement#template_xml: the TEMPLATE element as XML text."""
    return ET.tostring(elem.find("TEMPLATE"), encoding="unicode")


def delete_element(elem, path):
    """XMLElement#delete_element"""
    parent = elem.find(path.rsplit("/", 1)[0]) if "/" in path else elem
    for child in parent.findall(path.rsplit("/", 1)[-1]):
        parent.remove(child)


def add_element(elem, path, tag, children):
    """XMLElement#add_element(path, tag => {k => v})"""
    node = ET.SubElement(elem.find(path), tag)
    for k, v in children.items():
        ET.SubElement(node, k).text = str(v)


def pool(method, root, tag, *args):
    return xml(D.ok(method, *args)).findall(tag)


def wait_image(iid, timeout=60):
    x = D.wait_state("image", iid, (IMAGE_READY, IMAGE_ERROR), timeout=timeout)
    if xint(x, "STATE") != IMAGE_READY:
        raise AssertionError("image %d: %s" % (iid, xtext(x, "TEMPLATE/ERROR")))
    return x


def wait_app(aid, timeout=60):
    x = D.wait_state("marketapp", aid, (APP_READY, harness.APP_ERROR), timeout=timeout)
    if xint(x, "STATE") != APP_READY:
        raise AssertionError("app %d: %s" % (aid, xtext(x, "TEMPLATE/ERROR")))
    return x


# -- the CLI flows, call by call ----------------------------------------------------

def private_markets():
    """OneMarketPlaceAppHelper#private_markets: MarketPlacePool#info."""
    markets = pool("one.marketpool.info", "MARKETPLACE_POOL", "MARKETPLACE")
    return sorted((m for m in markets if xtext(m, "MARKET_MAD") in PRIVATE_MADS),
                  key=lambda m: xint(m, "ID"))


def mp_import_template(template, market, template_name=None):
    """TemplateExt#mp_import(market, import_all = true, template_name):
    one IMAGE app per DISK, then the VMTEMPLATE app.  Returns (name, ids)."""
    ids, main_template = [], ""
    for idx, disk in enumerate(template.findall("TEMPLATE/DISK")):
        # image_lookup: Image.new_with_id(IMAGE_ID).info
        image = xml(D.ok("one.image.info", int(xtext(disk, "IMAGE_ID")), False))
        assert xint(image, "STATE") in (1, 2, 4), "wrong image state"  # READY USED LOCKED
        # create_app_template(image, idx)
        app_name = "%s-%s" % (xtext(image, "NAME"), hex10())
        img_type = IMAGE_TYPES[xint(image, "TYPE")]
        template64 = "TYPE=%s\n" % img_type
        if image.find("TEMPLATE/DEV_PREFIX") is not None:
            template64 += 'DEV_PREFIX="%s"\n' % xtext(image, "TEMPLATE/DEV_PREFIX")
        app_tmpl = ('NAME      ="%s"\nORIGIN_ID ="%s"\nTYPE      ="IMAGE"\n'
                    'VERSION   ="%s"\n\nAPPTEMPLATE64 = "%s"\n'
                    % (app_name, xtext(image, "ID"), ONE_VERSION, b64(template64)))
        main_template += 'DISK = [\n    NAME = "%s_%d",\n    APP  = "%s"\n]\n' % (
            img_type, idx, app_name)
        # create_app: MarketPlaceApp#allocate(template, market_id)
        ids.append(D.ok("one.marketapp.allocate", app_tmpl, market))
    delete_element(template, "TEMPLATE/DISK")
    # NICs become auto NICs (no NIC_ALIAS here): NETWORK_MODE = auto, and
    # delete_nic_attributes
    for nic in template.findall("TEMPLATE/NIC"):
        if nic.find("NETWORK") is None and nic.find("NETWORK_ID") is None:
            continue
        ET.SubElement(nic, "NETWORK_MODE").text = "auto"
        for a in ("NETWORK", "NETWORK_ID", "NETWORK_UNAME", "SECURITY_GROUPS"):
            for e in nic.findall(a):
                nic.remove(e)
    name = template_name or "%s-%s" % (xtext(template, "NAME"), hex10())
    main_template += ('NAME      ="%s"\nORIGIN_ID ="-1"\nTYPE      ="VMTEMPLATE"\n'
                      'VERSION   ="%s"\n\nAPPTEMPLATE64 ="%s"\n'
                      % (name, ONE_VERSION, b64(template_str(template))))
    ids.append(D.ok("one.marketapp.allocate", main_template, market))
    return name, ids


def vm_template_import(tid, market, vmname=None):
    """`onemarketapp vm-template import <tid> --yes --market <m>`:
    OneMarketPlaceAppHelper#import_vm_template, then create_apps."""
    assert market in [xint(m, "ID") for m in private_markets()]
    template = xml(D.ok("one.template.info", tid, False, False))   # Template#info
    return mp_import_template(template, market, vmname)


def service_template_import(doc_id, market):
    """`onemarketapp service-template import <id> --yes --market <m>`:
    OneMarketPlaceAppHelper#import_service_template."""
    assert market in [xint(m, "ID") for m in private_markets()]
    # ServiceTemplate#info: Document#info refuses another TYPE, then load_body
    doc = xml(D.ok("one.document.info", doc_id, False))
    assert xint(doc, "TYPE") == SERVICE_TEMPLATE_TYPE, "[DocumentInfo] Error getting document"
    body = json.loads(xtext(doc, "TEMPLATE/BODY"))
    # import_service_template_roles(import_all = true): Template#info per role
    markets = {}
    for role in body["roles"]:
        template = xml(D.ok("one.template.info", role["vm_template"], False, False))
        markets.setdefault(xint(template, "ID"), {"market": market, "template": template})
    # create_apps: TemplateExt#mp_import per role template, no name given
    ids = []
    for entry in markets.values():
        entry["name"], made = mp_import_template(entry["template"], entry["market"])
        ids += made
    # ServiceTemplateExt#mp_import(templates, market_id, name = nil);
    # APPTEMPLATE64 is the body as it is before the roles lose vm_template
    name = "%s-%s" % (body["name"], hex10())
    app_tmpl = ('NAME      = "%s"\nORIGIN_ID = "-1"\nTYPE      = "SERVICE_TEMPLATE"\n'
                'APPTEMPLATE64 = "%s"\n' % (name, b64(json.dumps(body, separators=(",", ":")))))
    for role in body["roles"]:
        entry = markets.get(role["vm_template"])
        if entry is None:
            continue
        app_tmpl += 'ROLE = [ NAME="%s", APP="%s"]\n' % (role["name"], entry["name"])
        del role["vm_template"]
    ids.append(D.ok("one.marketapp.allocate", app_tmpl, market))
    return name, ids


def export_image(app, opts):
    """MarketPlaceAppExt#export_image (not vCenter, no --template)."""
    rc = {"image": [], "image_type": None, "vmtemplate": []}
    tmpl_text = unb64(xtext(app, "APPTEMPLATE64") or "")
    tmpl_text += ('                NAME     = "%s"\n                FROM_APP = "%s"\n'
                  % (opts["name"], xtext(app, "ID")))
    ds = xml(D.ok("one.datastore.info", opts["dsid"], False))      # Datastore#info
    assert ds.findtext("TEMPLATE/DRIVER") != "vcenter"      # is_vcenter
    # Image#allocate(tmpl, dsid, no_check_capacity = false)
    iid = D.ok("one.image.allocate", tmpl_text, opts["dsid"], False)
    image = xml(D.ok("one.image.info", iid, False))
    delete_element(image, "TEMPLATE/FORMAT")
    delete_element(image, "TEMPLATE/DRIVER")
    D.ok("one.image.update", iid, template_xml(image), 0)          # Image#update(xml)
    rc["image"] = [iid]
    rc["image_type"] = IMAGE_TYPES[xint(image, "TYPE")]
    vmt64 = app.find("TEMPLATE/VMTEMPLATE64")
    if vmt64 is None or opts.get("notemplate"):
        return rc
    # Template#allocate(decoded VMTEMPLATE64 + NAME + DISK)
    text = unb64(vmt64.text)
    text += ('\n\n                    NAME = "%s"\n                    DISK = [ IMAGE_ID = "%d" ]\n'
             % (opts.get("vmtemplate_name") or opts["name"], iid))
    rc["vmtemplate"] = [D.ok("one.template.allocate", text)]
    return rc


def export_recursive(app, xpath, opts, make):
    """MarketPlaceAppExt#export_recursive: each DISK/ROLE app, by name,
    exported once; then @make(exported)."""
    apps = pool("one.marketapppool.info", "MARKETPLACEAPP_POOL", "MARKETPLACEAPP",
                -2, -1, -1)                                        # info_all
    exported, idx = {}, 0
    for obj in app.findall(xpath):
        obj_name, ref = xtext(obj, "NAME"), xtext(obj, "APP")
        if ref in exported:
            exported[ref]["names"].append(obj_name)
            continue
        child = next(a for a in apps if xtext(a, "NAME") == ref)
        # ImagePool.new(@client).info: the names already used
        names = [xtext(i, "NAME") for i in pool("one.imagepool.info", "IMAGE_POOL", "IMAGE",
                                                 -1, -1, -1)]
        opt_name = opts["name"]
        if "%s-%s-%d" % (opt_name, obj_name, idx) in names:
            idy = 0
            while "%s_%d-%s-%d" % (opt_name, idy, obj_name, idx) in names:
                idy += 1
            opt_name = "%s_%d" % (opt_name, idy)
        rc = export(xint(child, "ID"), {"dsid": opts["dsid"],
                                        "name": "%s-%s-%d" % (opt_name, obj_name, idx),
                                        "notemplate": opts.get("notemplate")})
        idx += 1
        exported[ref] = dict(rc, names=[obj_name])
    return make(exported), exported


def create_vm_template(app, opts, disks):
    """MarketPlaceAppExt#create_vm_template (not vCenter)."""
    D.ok("one.datastore.info", opts["dsid"], False)
    text = unb64(xtext(app, "TEMPLATE/APPTEMPLATE64")) + '\nNAME="%s"\n' % opts["name"]
    tid = D.ok("one.template.allocate", text)
    vmtpl = xml(D.ok("one.template.info", tid, False, False))
    for disk in disks.values():
        if disk["image_type"] in ("IMAGE", "OS", "DATABLOCK", "CDROM"):
            add_element(vmtpl, "TEMPLATE", "DISK", {"IMAGE_ID": disk["image"][0]})
    D.ok("one.template.update", tid, template_xml(vmtpl), 0)      # Template#update(xml)
    return tid


def create_service_template(app, opts, roles):
    """MarketPlaceAppExt#create_service_template, then ServiceTemplate#allocate
    (validate, registration_time) -> DocumentJSON#allocate(json, name) ->
    Document#allocate(xml) with DOCUMENT_TYPE."""
    body = json.loads(unb64(xtext(app, "TEMPLATE/APPTEMPLATE64")))
    body["name"] = opts["name"]
    for role in body["roles"]:
        made = next((v for v in roles.values() if role["name"] in v["names"]), None)
        if made and made["vmtemplate"]:
            role["vm_template"] = made["vmtemplate"][0]
    body["registration_time"] = int(time.time())
    text = ("<TEMPLATE><NAME>%s</NAME><BODY><![CDATA[%s]]></BODY></TEMPLATE>"
            % (body["name"], json.dumps(body, separators=(",", ":"))))
    return D.ok("one.document.allocate", text, SERVICE_TEMPLATE_TYPE)


def export(app_id, opts):
    """MarketPlaceAppExt#export(options): what `onemarketapp export <app>
    <name> -d <ds>` runs (options[:name], [:dsid], [:notemplate] = --no)."""
    app = xml(D.ok("one.marketapp.info", app_id, False))           # info
    assert xint(app, "STATE") == APP_READY, "App is not READY"
    kind = {v: k for k, v in APP_TYPE.items()}[xint(app, "TYPE")]
    if kind == "IMAGE":
        return export_image(app, opts)
    if kind == "VMTEMPLATE":
        opts = dict(opts, notemplate=True)
        tid, disks = export_recursive(app, ".//DISK", opts,
                                      lambda d: create_vm_template(app, opts, d))
        return {"image": [i for d in disks.values() for i in d["image"]],
                "image_type": None, "vmtemplate": [tid]}
    did, roles = export_recursive(app, ".//ROLE", opts,
                                  lambda r: create_service_template(app, opts, r))
    return {"image": [i for r in roles.values() for i in r["image"]],
            "vmtemplate": [r["vmtemplate"][0] for r in roles.values()],
            "service_template": [did]}


# -- the tests ----------------------------------------------------------------------

def source_image(name, content):
    """A READY OS image in datastore 1 with @content."""
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(content)
    iid = D.ok("one.image.allocate",
               tmpl(NAME=name, PATH=path, TYPE="OS", DEV_PREFIX="vd"), 1)
    wait_image(iid)
    return iid, hashlib.md5(content).hexdigest()


class T1VmTemplateImport(harness.TestCase):
    """`onemarketapp vm-template import` of a template with two disks."""

    def test_1_import(self):
        i1, m1 = source_image("debian-root", os.urandom(6000))
        i2, m2 = source_image("debian-data", os.urandom(9000))
        FLOW["md5"] = {i1: m1, i2: m2}
        # `onetemplate create`: a template with its disks and a NIC
        tid = D.ok("one.template.allocate",
                   'NAME = "debian"\nCPU = "1"\nMEMORY = "768"\n'
                   'DISK = [ IMAGE_ID = "%d" ]\nDISK = [ IMAGE_ID = "%d" ]\n'
                   'NIC = [ NETWORK = "public", NETWORK_UNAME = "oneadmin", MODEL = "virtio" ]\n'
                   'CONTEXT = [ NETWORK = "YES", SSH_PUBLIC_KEY = "$USER[SSH_PUBLIC_KEY]" ]\n'
                   % (i1, i2))
        FLOW["vm_template"] = tid
        name, ids = vm_template_import(tid, MARKET, vmname="debian-app")
        self.assertEqual(name, "debian-app")
        self.assertEqual(len(ids), 3)
        disk_apps = [wait_app(a) for a in ids[:2]]
        vm_app = wait_app(ids[2])
        # Each disk app holds its image's content, uploaded by the http driver.
        for a, (iid, md5) in zip(disk_apps, FLOW["md5"].items()):
            self.assertEqual(xint(a, "TYPE"), APP_TYPE["IMAGE"])
            self.assertEqual(xtext(a, "ORIGIN_ID"), str(iid))
            self.assertEqual(xtext(a, "MD5"), md5)
            self.assertEqual(xint(a, "MARKETPLACE_ID"), MARKET)
            self.assertEqual(unb64(xtext(a, "APPTEMPLATE64")), 'TYPE=OS\nDEV_PREFIX="vd"\n')
        self.assertEqual(xint(vm_app, "TYPE"), APP_TYPE["VMTEMPLATE"])
        self.assertEqual(xtext(vm_app, "ORIGIN_ID"), "-1")
        self.assertEqual(xtext(vm_app, "VERSION"), ONE_VERSION)
        self.assertEqual([(xtext(d, "NAME"), xtext(d, "APP")) for d in
                          vm_app.findall("TEMPLATE/DISK")],
                         [("OS_0", xtext(disk_apps[0], "NAME")),
                          ("OS_1", xtext(disk_apps[1], "NAME"))])
        inner = unb64(xtext(vm_app, "APPTEMPLATE64"))
        self.assertNotIn("DISK", inner)
        self.assertIn('NETWORK_MODE="auto"', inner)
        self.assertNotIn("NETWORK_UNAME", inner)
        self.assertIn('SSH_PUBLIC_KEY="$USER[SSH_PUBLIC_KEY]"', inner)
        # The template itself is left as it was.
        t = D.info("template", tid)
        self.assertEqual([xtext(d, "IMAGE_ID") for d in t.findall("TEMPLATE/DISK")],
                         [str(i1), str(i2)])
        FLOW["vm_app"] = xint(vm_app, "ID")
        FLOW["vm_app_name"] = xtext(vm_app, "NAME")


class T2ServiceTemplateImport(harness.TestCase):
    """`onemarketapp service-template import` of a two-role service."""

    def test_1_import(self):
        tid = FLOW["vm_template"]
        body = {"name": "web", "deployment": "straight", "description": "",
                "roles": [{"name": "front", "cardinality": 1, "vm_template": tid},
                          {"name": "back", "cardinality": 2, "vm_template": tid,
                           "parents": ["front"]}]}
        # `oneflow-template create`: ServiceTemplate#allocate, a document
        # of OneFlow's TYPE with the JSON in TEMPLATE/BODY
        did = D.ok("one.document.allocate",
                   "<TEMPLATE><NAME>web</NAME><BODY><![CDATA[%s]]></BODY></TEMPLATE>"
                   % json.dumps(body), SERVICE_TEMPLATE_TYPE)
        name, ids = service_template_import(did, MARKET)
        # One template for both roles: imported once, two disks + itself,
        # then the service app.
        self.assertEqual(len(ids), 4)
        for a in ids[:3]:
            wait_app(a)
        svc = wait_app(ids[3])
        vm_app = D.info("marketapp", ids[2])
        self.assertEqual(xint(svc, "TYPE"), APP_TYPE["SERVICE_TEMPLATE"])
        self.assertEqual(xtext(svc, "ORIGIN_ID"), "-1")
        self.assertEqual([(xtext(r, "NAME"), xtext(r, "APP")) for r in
                          svc.findall("TEMPLATE/ROLE")],
                         [("front", xtext(vm_app, "NAME")), ("back", xtext(vm_app, "NAME"))])
        inner = json.loads(unb64(xtext(svc, "APPTEMPLATE64")))
        self.assertEqual([r["vm_template"] for r in inner["roles"]], [tid, tid])
        FLOW["svc_app"] = xint(svc, "ID")


class T3Export(harness.TestCase):
    """`onemarketapp export <app> <name> -d <ds>` of each kind of app."""

    def check_image(self, iid, name, md5):
        im = wait_image(iid)
        self.assertEqual(xtext(im, "NAME"), name)
        self.assertEqual(xint(im, "DATASTORE_ID"), DS2)
        self.assertEqual(md5_file(xtext(im, "SOURCE")), md5)
        self.assertIsNone(im.find("TEMPLATE/EXPORT_GROUP"))
        self.assertIsNone(im.find("TEMPLATE/FORMAT"))
        return im

    def test_1_image_with_vmtemplate64(self):
        iid, md5 = source_image("alpine", os.urandom(5000))
        vmt = ('CPU = "1"\nMEMORY = "512"\nSCHED_REQUIREMENTS = "HYPERVISOR=kvm"\n'
               'HYPERVISOR = "kvm"\nGRAPHICS = [ LISTEN = "0.0.0.0", TYPE = "vnc" ]\n')
        aid = D.ok("one.marketapp.allocate",
                   tmpl(NAME="Alpine Linux", TYPE="IMAGE", ORIGIN_ID=iid,
                        APPTEMPLATE64=b64('DEV_PREFIX="vd"\nTYPE="OS"\n'),
                        VMTEMPLATE64=b64(vmt)), MARKET)
        wait_app(aid)
        rc = export(aid, {"dsid": DS2, "name": "alpine-x"})
        self.assertEqual(rc["image_type"], "OS")
        self.check_image(rc["image"][0], "alpine-x", md5)
        t = D.info("template", rc["vmtemplate"][0])
        self.assertEqual(xtext(t, "NAME"), "alpine-x")
        self.assertEqual(xtext(t, "UNAME"), "oneadmin")
        self.assertEqual([xtext(d, "IMAGE_ID") for d in t.findall("TEMPLATE/DISK")],
                         [str(rc["image"][0])])
        self.assertEqual((xtext(t, "TEMPLATE/CPU"), xtext(t, "TEMPLATE/MEMORY"),
                          xtext(t, "TEMPLATE/GRAPHICS/TYPE")), ("1", "512", "vnc"))
        self.assertIsNone(t.find("TEMPLATE/NAME"))
        self.assertIsNone(t.find("TEMPLATE/EXPORT_GROUP"))

    def test_2_vmtemplate(self):
        rc = export(FLOW["vm_app"], {"dsid": DS2, "name": "debian-x"})
        self.assertEqual(len(rc["image"]), 2)
        for iid, (name, md5) in zip(rc["image"], zip(["debian-x-OS_0-0", "debian-x-OS_1-1"],
                                                     FLOW["md5"].values())):
            self.check_image(iid, name, md5)
        t = D.info("template", rc["vmtemplate"][0])
        self.assertEqual(xtext(t, "NAME"), "debian-x")
        self.assertEqual([xtext(d, "IMAGE_ID") for d in t.findall("TEMPLATE/DISK")],
                         [str(i) for i in rc["image"]])
        self.assertEqual(xtext(t, "TEMPLATE/NIC/NETWORK_MODE"), "auto")
        self.assertEqual(xtext(t, "TEMPLATE/NIC/MODEL"), "virtio")
        self.assertEqual(xtext(t, "TEMPLATE/MEMORY"), "768")

    def test_3_service_template(self):
        before = pool("one.templatepool.info", "VMTEMPLATE_POOL", "VMTEMPLATE", -2, -1, -1)
        rc = export(FLOW["svc_app"], {"dsid": DS2, "name": "web-x"})
        # Both roles name one app: one VM template, two images.
        self.assertEqual(len(rc["vmtemplate"]), 1)
        self.assertEqual(len(rc["image"]), 2)
        for iid in rc["image"]:
            wait_image(iid)
        after = pool("one.templatepool.info", "VMTEMPLATE_POOL", "VMTEMPLATE", -2, -1, -1)
        self.assertEqual(len(after), len(before) + 1)
        tid = rc["vmtemplate"][0]
        self.assertEqual(xtext(D.info("template", tid), "NAME"), "web-x-front-0")
        doc = D.info("document", rc["service_template"][0])
        self.assertEqual(xint(doc, "TYPE"), SERVICE_TEMPLATE_TYPE)
        self.assertEqual(xtext(doc, "NAME"), "web-x")
        self.assertIsNone(doc.find("TEMPLATE/NAME"))
        body = json.loads(xtext(doc, "TEMPLATE/BODY"))
        self.assertEqual(body["name"], "web-x")
        self.assertEqual([(r["name"], r["vm_template"]) for r in body["roles"]],
                         [("front", tid), ("back", tid)])
        # `oneflow-template list` finds it among OneFlow's documents.
        docs = pool("one.documentpool.info", "DOCUMENT_POOL", "DOCUMENT", -2, -1, -1,
                    SERVICE_TEMPLATE_TYPE)
        self.assertIn(rc["service_template"][0], [xint(d, "ID") for d in docs])


class T4Rules(harness.TestCase):
    """oned's rules for the methods the flows use: names unique per owner,
    clone needs USE, errors with oned's codes."""

    @classmethod
    def setUpClass(cls):
        cls.uid, cls.alice = D.user("alice-%s" % hex10())
        cls.tid = D.ok("one.template.allocate", 'NAME = "rules"\nCPU = "2"\n')

    def test_names_per_owner(self):
        r = D.rpc("one.template.allocate", 'NAME = "rules"\n')
        self.assertFailure(r, "one.template.allocate", code=ALLOCATE,
                           contains=["Error allocating a new template.", "NAME is already taken"])
        r = D.rpc("one.template.clone", self.tid, "rules")
        self.assertFailure(r, "one.template.clone", code=ALLOCATE, contains="already taken")
        r = D.rpc("one.template.allocate", 'CPU = "1"\n')
        self.assertFailure(r, "one.template.allocate", code=ALLOCATE, contains="NAME")
        # Another owner may use the name.
        D.ok("one.template.allocate", 'NAME = "rules"\n', session=self.alice)

    def test_clone_needs_use(self):
        r = D.rpc("one.template.clone", self.tid, "mine", session=self.alice)
        self.assertFailure(r, "one.template.clone", code=AUTHORIZATION)
        D.ok("one.template.chmod", self.tid, -1, -1, -1, -1, -1, -1, 1, -1, -1)
        cid = D.ok("one.template.clone", self.tid, "mine", session=self.alice)
        c = D.info("template", cid, session=self.alice)
        self.assertEqual((xint(c, "UID"), xtext(c, "TEMPLATE/CPU")), (self.uid, "2"))
        self.assertFailure(D.rpc("one.template.clone", 99999, "x"), "one.template.clone",
                           code=NO_EXISTS, resp_id=99999)

    def test_document_clone_keeps_type(self):
        did = D.ok("one.document.allocate",
                   "<TEMPLATE><BODY><![CDATA[{}]]></BODY></TEMPLATE>", SERVICE_TEMPLATE_TYPE)
        self.assertEqual(xtext(D.info("document", did), "NAME"), "document-%d" % did)
        cid = D.ok("one.document.clone", did, "copy")
        c = D.info("document", cid)
        self.assertEqual((xint(c, "TYPE"), xtext(c, "NAME"), xtext(c, "TEMPLATE/BODY")),
                         (SERVICE_TEMPLATE_TYPE, "copy", "{}"))


if __name__ == "__main__":
    harness.main()
