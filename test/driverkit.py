"""The driver conformance kit (test/drivers/marketd-driver-check) as a
Python module: the driver tests and benches build action documents and
read results with its helpers.  Python standard library only."""

import importlib.machinery
import importlib.util
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drivers",
                    "marketd-driver-check")


def load():
    """The kit, imported (it is a script without a .py name)."""
    loader = importlib.machinery.SourceFileLoader("marketd_driver_check", PATH)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
