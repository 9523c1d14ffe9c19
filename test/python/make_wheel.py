"""Writes a tiny pure-Python wheel, NAME-VERSION-py3-none-any.whl, into
OUTDIR: a package NAME with one module and a console script (pip writes
the script to bin/ with this machine's python on its first line, which
libsynth leaves out of the zip). Built with zipfile, not `pip wheel`:
building needs setuptools and wheel, which an offline machine may lack.

Usage: make_wheel.py OUTDIR [NAME] [VERSION]
"""
import base64
import hashlib
import os
import sys
import zipfile


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d" % (name, digest.decode(), len(data))


def main():
    out = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) > 2 else "synthdemo"
    version = sys.argv[3] if len(sys.argv) > 3 else "1.0"
    info = "%s-%s.dist-info" % (name, version)
    files = {
        name + "/__init__.py": b"from .greet import greet\n",
        name + "/greet.py": b"def greet(who='world'):\n    return 'hello, ' + who\n\n"
                            b"def main():\n    print(greet())\n",
        info + "/METADATA": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
                             % (name, version)).encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: make_wheel.py\n"
                         b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        info + "/entry_points.txt": ("[console_scripts]\n%s = %s.greet:main\n"
                                     % (name, name)).encode(),
    }
    record = [record_line(n, d) for n, d in files.items()] + [info + "/RECORD,,"]
    files[info + "/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n in sorted(files):
            z.writestr(zipfile.ZipInfo(n, (1980, 1, 1, 0, 0, 0)), files[n])
    print(path)


if __name__ == "__main__":
    main()
