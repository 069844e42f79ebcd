#!/usr/bin/env python3
"""Catalogs in the shape of the OpenNebula public marketplace, for tests.

The marketplace serves GET <ENDPOINT>/appliance as {"appliances": [...]}
and each image at <ENDPOINT>/appliance/<id>/download/0.  This module builds
such catalogs (a fixed set of appliances covering every case the one driver
and marketd must handle, plus any number of synthetic ones) and serves them
with the tests' private nginx (test/nginx.py).

As a module:

    import catalog
    cat = catalog.make(n=10000)            # dict: {"appliances": [...]}
    server, endpoint = catalog.serve(tmpdir, cat)
    # endpoint = "http://127.0.0.1:PORT/", the market's ENDPOINT
    ...
    server.stop()

    catalog.FIXED_IDS["image"]             # ids of the fixed appliances
    catalog.content(cat, app_id)           # bytes served for an image

As a command (writes the files, or serves them until interrupted):

    catalog.py [-n N] [--serve] DIR

Python 3 standard library only.

The fixed appliances (catalog.fixed()), in this order:
  image      IMAGE with everything: size as a string, md5, dev_prefix/type,
             os-arch amd64, hypervisor "KVM", a description with quotes,
             backslashes, a newline and UTF-8, opennebula_template a JSON
             string with a vector, a list (two NICs), numbers, a boolean
             and an existing SCHED_REQUIREMENTS
  arm        IMAGE, no "type" field (IMAGE is the default), size a number,
             os-arch arm64, hypervisor "ALL", an "os" object in its template,
             numeric tags
  bare       IMAGE with nothing optional: no files, no arch, no hypervisor
  gzip       IMAGE whose file is served gzip-compressed (md5 of the .gz)
  corrupt    IMAGE whose md5 does not match the file served
  badtpl     IMAGE whose opennebula_template is not JSON
  vmtemplate VMTEMPLATE with disks naming the "image" and "arm" apps
  service    SERVICE_TEMPLATE with two roles naming the "vmtemplate" app
  unknown    type "DOCKER": skipped
  noid       no _id: skipped
  badfiles   files is a string: skipped
"""

import argparse
import copy
import gzip
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from nginx import Nginx  # noqa: E402

MB = 1 << 20

FIXED_IDS = {
    "image": "64f0a0000000000000000001",
    "arm": "64f0a0000000000000000002",
    "bare": "64f0a0000000000000000003",
    "gzip": "64f0a0000000000000000004",
    "corrupt": "64f0a0000000000000000005",
    "badtpl": "64f0a0000000000000000006",
    "vmtemplate": "64f0a0000000000000000007",
    "service": "64f0a0000000000000000008",
    "unknown": "64f0a0000000000000000009",
    "badfiles": "64f0a000000000000000000a",
}
# Appliances the driver must skip (with a WARN: line each).
SKIPPED = ("unknown", "noid", "badfiles")

DESCRIPTION = ('Alpine "edge" with C:\\path\\ and a backslash at the end\\\n'
               'second line: Ünïcødé — “quoted” 日本語')


def _content(seed, size):
    """Deterministic pseudo-random bytes."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:size])


def _oid(key):
    return {"$oid": FIXED_IDS[key]}


def fixed():
    """The fixed appliances, each with a private "_content" (bytes served
    at its download URL, when it has a file); see the module docstring."""
    image_data = _content("image", MB + 5)
    arm_data = _content("arm", 2 * MB)
    gzip_plain = _content("gzip", MB) + bytes(MB)
    gzip_data = gzip.compress(gzip_plain, 6, mtime=0)
    corrupt_data = _content("corrupt", 300000)
    image_tpl = {
        "CONTEXT": {"NETWORK": "YES", "SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]",
                    "START_SCRIPT": "echo \"hi\" \\ there"},
        "CPU": "1",
        "MEMORY": 768,
        "VCPU": 2.5,
        "GRAPHICS": {"LISTEN": "0.0.0.0", "TYPE": "vnc"},
        "NIC": [{"NETWORK": "public"}, {"NETWORK": "private", "MODEL": "virtio"}],
        "LOGO": "images/logos/alpine.png",
        "EMPTY": "",
        "NOTHING": None,
        "INPUTS_ORDER": True,
        "SCHED_REQUIREMENTS": "FREE_CPU > 50",
    }
    arm_tpl = {"cpu": "2", "memory": "1024", "os": {"arch": "x86_64", "boot": "disk0"}}
    vm_tpl = {"CPU": "1", "MEMORY": "2048", "DISK_COST": "0.1",
              "USER_INPUTS": {"PASSWORD": "M|password|Admin password"}}
    service_tpl = json.dumps({
        "name": "Kubernetes", "deployment": "straight",
        "roles": [{"name": "master", "cardinality": 1}, {"name": "worker", "cardinality": 2}],
    })
    apps = [
        {"_id": _oid("image"), "name": "Alpine Linux 3.20", "type": "IMAGE",
         "publisher": "OpenNebula Systems", "format": "qcow2",
         "short_description": DESCRIPTION, "description": "long text, unused",
         "version": "3.20.1-20240601", "tags": ["alpine", "linux"],
         "creation_time": 1717200000, "os-id": "Alpine", "os-release": "3.20",
         "os-arch": "amd64", "hypervisor": "KVM",
         "files": [{"size": str(len(image_data)), "md5": hashlib.md5(image_data).hexdigest(),
                    "dev_prefix": "vd", "type": "OS", "driver": "qcow2"}],
         "opennebula_template": json.dumps(image_tpl),
         "_content": image_data},
        {"_id": _oid("arm"), "name": "Ubuntu 24.04 arm",
         "publisher": "OpenNebula Systems", "format": "raw",
         "short_description": "Ubuntu for ARM", "version": 2404,
         "tags": ["ubuntu", 24.04, 7], "creation_time": "1717300000",
         "os-arch": "arm64", "hypervisor": "ALL",
         "files": [{"size": len(arm_data), "md5": hashlib.md5(arm_data).hexdigest(),
                    "dev_prefix": "sd"}],
         "opennebula_template": json.dumps(arm_tpl),
         "_content": arm_data},
        {"_id": _oid("bare"), "name": "bare", "type": "IMAGE"},
        {"_id": _oid("gzip"), "name": "gzipped image", "type": "IMAGE", "format": "raw",
         "files": [{"size": str(len(gzip_data)), "md5": hashlib.md5(gzip_data).hexdigest()}],
         "_content": gzip_data, "_plain": gzip_plain},
        {"_id": _oid("corrupt"), "name": "corrupt image", "type": "IMAGE", "format": "raw",
         "files": [{"size": len(corrupt_data), "md5": hashlib.md5(b"something else").hexdigest()}],
         "_content": corrupt_data},
        {"_id": _oid("badtpl"), "name": "bad template", "type": "IMAGE",
         "opennebula_template": "{not json"},
        {"_id": _oid("vmtemplate"), "name": "WordPress VM", "type": "VMTEMPLATE",
         "publisher": "OpenNebula Systems", "short_description": "WordPress",
         "version": "6.10", "tags": [], "creation_time": 1717400000,
         "os-arch": "x86_64", "hypervisor": "kvm",
         "disks": ["Alpine Linux 3.20", "Ubuntu 24.04 arm"],
         "opennebula_template": json.dumps(vm_tpl)},
        {"_id": _oid("service"), "name": "Kubernetes service", "type": "SERVICE_TEMPLATE",
         "publisher": "OpenNebula Systems", "short_description": "Kubernetes",
         "version": "1.30", "creation_time": 1717500000,
         "roles": {"master": "WordPress VM", "worker": "WordPress VM"},
         "opennebula_template": service_tpl},
        {"_id": _oid("unknown"), "name": "docker thing", "type": "DOCKER"},
        {"name": "no id at all", "type": "IMAGE"},
        {"_id": _oid("badfiles"), "name": "bad files", "files": "oops"},
    ]
    return apps


def synthetic(i):
    """The i-th synthetic appliance: mostly images with a VM template (the
    real catalog's shape and size), every 10th a VM template, every 50th a
    service template.  Ids are 24 hex digits starting with "5"."""
    oid = "5%023x" % i
    app = {"_id": {"$oid": oid}, "name": "synthetic-%05d" % i,
           "publisher": "OpenNebula Systems", "format": "qcow2",
           "short_description": "Synthetic appliance %d: \"quoted\", two\nlines" % i,
           "description": "unused " * 20, "version": "1.%d" % (i % 7),
           "tags": ["synthetic", "t%d" % (i % 13)], "creation_time": 1700000000 + i,
           "os-arch": "amd64", "hypervisor": "KVM"}
    if i % 50 == 49:
        app.update(type="SERVICE_TEMPLATE",
                   roles={"front": "synthetic-%05d" % (i - 9), "back": "synthetic-%05d" % (i - 19)},
                   opennebula_template=json.dumps({"name": "svc %d" % i, "roles": []}))
    elif i % 10 == 9:
        app.update(type="VMTEMPLATE", disks=["synthetic-%05d" % (i - 1)],
                   opennebula_template=json.dumps({"CPU": "1", "MEMORY": "512"}))
    else:
        app.update(type="IMAGE",
                   files=[{"size": str(2 * 1024 ** 3 + i), "md5": hashlib.md5(oid.encode()).hexdigest(),
                           "dev_prefix": "vd", "type": "OS"}],
                   opennebula_template=json.dumps({
                       "CONTEXT": {"NETWORK": "YES", "SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]"},
                       "CPU": "1", "MEMORY": "768", "GRAPHICS": {"LISTEN": "0.0.0.0", "TYPE": "vnc"},
                       "LOGO": "images/logos/linux.png"}))
    return app


def make(n=0, base_url=None, with_fixed=True):
    """A catalog dict {"appliances": [...]}: the fixed appliances (unless
    @with_fixed is false) then @n synthetic ones.  @base_url is accepted
    for symmetry with serve() and unused: the catalog holds no URLs (the
    driver builds them from its ENDPOINT).  Fixed appliances carry their
    served bytes under "_content" (stripped by write())."""
    apps = fixed() if with_fixed else []
    apps += [synthetic(i) for i in range(n)]
    return {"appliances": apps}


def public(catalog):
    """The catalog as the server sends it: private "_" fields removed."""
    out = copy.copy(catalog)
    out["appliances"] = [
        {k: v for k, v in app.items() if not k.startswith("_") or k == "_id"}
        if isinstance(app, dict) else app for app in catalog["appliances"]]
    return out


def content(catalog, app_id):
    """The bytes served at appliance/<app_id>/download/0, or None."""
    for app in catalog["appliances"]:
        if isinstance(app, dict) and app.get("_id", {}).get("$oid") == app_id:
            return app.get("_content")
    return None


def write(directory, catalog):
    """Write the catalog as DIR/appliance.json and each image's bytes as
    DIR/appliance/<id>/download/0."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "appliance.json"), "w", encoding="utf-8") as f:
        json.dump(public(catalog), f, ensure_ascii=False)
    for app in catalog["appliances"]:
        if isinstance(app, dict) and "_content" in app:
            d = os.path.join(directory, "appliance", app["_id"]["$oid"], "download")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "0"), "wb") as f:
                f.write(app["_content"])


def nginx_location(directory, prefix="/"):
    """The nginx directive serving DIR/appliance.json at <prefix>appliance
    (a file and a directory cannot share the name "appliance")."""
    return ("location = %sappliance { default_type application/json; alias %s/appliance.json; }"
            % (prefix, os.path.abspath(directory)))


def serve(directory, catalog, extra=""):
    """write() the catalog into DIR and serve DIR with a private nginx on
    127.0.0.1 (its files under DIR/nginx).  Returns (nginx, endpoint);
    call nginx.stop() when done (it also stops at exit)."""
    write(directory, catalog)
    server = Nginx(os.path.join(directory, "nginx"), os.path.abspath(directory),
                   extra=nginx_location(directory) + "\n" + extra).start()
    return server, server.url()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("directory")
    p.add_argument("-n", type=int, default=0, help="synthetic appliances (default 0)")
    p.add_argument("--no-fixed", action="store_true", help="synthetic appliances only")
    p.add_argument("--serve", action="store_true", help="serve with nginx until interrupted")
    args = p.parse_args()
    cat = make(args.n, with_fixed=not args.no_fixed)
    if not args.serve:
        write(args.directory, cat)
        return 0
    server, endpoint = serve(args.directory, cat)
    print("ENDPOINT = \"%s\"" % endpoint, flush=True)
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
