#!/usr/bin/env python3
"""test_ensure_dependencies: scripts/ensure_dependencies.sh on a machine where
a package is missing, not only where everything is present.

The machine state is simulated: PATH is a directory holding every program of
/usr/bin except valgrind, and stubs of apt-get, sudo and id that record their
calls (apt-get "installs" valgrind by adding a stub of it). Each case checks
the calls made, the exit code and the lines on stderr.

Usage: test_ensure_dependencies.py [unittest options]"""
import os
import stat
import subprocess
import sys
import tempfile
import unittest

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(PROJECT_DIR, "scripts", "ensure_dependencies.sh")
STUBBED = {"valgrind", "apt-get", "sudo", "id"}
INSTALL_VALGRIND = "apt-get install -y --no-install-recommends valgrind"


def write_executable(path, text):
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class Machine:
    """A PATH without valgrind, with recording stubs of apt-get, sudo and id."""

    def __init__(self, directory, uid, with_sudo):
        self.bin = os.path.join(directory, "bin")
        self.log = os.path.join(directory, "calls.log")
        os.mkdir(self.bin)
        for name in os.listdir("/usr/bin"):
            if name not in STUBBED:
                os.symlink(os.path.join("/usr/bin", name), os.path.join(self.bin, name))
        record = f'echo "$(basename "$0") $*" >> {self.log}\n'
        write_executable(os.path.join(self.bin, "id"), f"#!/bin/sh\necho {uid}\n")
        write_executable(
            os.path.join(self.bin, "apt-get"),
            "#!/bin/sh\n" + record
            + f'case " $* " in *" valgrind "*) printf "#!/bin/sh\\n" > {self.bin}/valgrind;'
            + f" chmod +x {self.bin}/valgrind;; esac\n",
        )
        if with_sudo:
            write_executable(os.path.join(self.bin, "sudo"), "#!/bin/sh\n" + record
                             + '[ "$1" = -n ] && shift\nexec "$@"\n')

    def add_valgrind(self):
        write_executable(os.path.join(self.bin, "valgrind"), "#!/bin/sh\n")

    def run(self, *arguments, **environment):
        env = {"PATH": self.bin, "HOME": os.environ.get("HOME", "/"), **environment}
        result = subprocess.run(["/bin/bash", SCRIPT, *arguments], env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        return result

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as file:
            return file.read().splitlines()


class EnsureDependenciesTest(unittest.TestCase):
    def machine(self, uid=0, with_sudo=False):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return Machine(directory.name, uid, with_sudo)

    def assert_announced(self, result):
        self.assertRegex(result.stderr, r"(?m)^ensure_dependencies: valgrind is missing \(required: .*valgrind.*\)")

    def test_installs_as_root(self):
        machine = self.machine(uid=0)
        result = machine.run("test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_announced(result)
        self.assertEqual(machine.calls(), ["apt-get update -qq", "apt-get install -y -qq --no-install-recommends valgrind"])
        self.assertEqual(machine.run("test").returncode, 0)  # present now: no second install
        self.assertEqual(len(machine.calls()), 2)

    def test_installs_through_sudo(self):
        machine = self.machine(uid=1000, with_sudo=True)
        result = machine.run("valgrind")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("sudo apt-get install -y -qq --no-install-recommends valgrind", machine.calls())

    def test_no_root_no_sudo_gives_the_command(self):
        machine = self.machine(uid=1000)
        result = machine.run("test")
        self.assertEqual(result.returncode, 2)
        self.assert_announced(result)
        self.assertIn(f"run: sudo apt-get update && sudo {INSTALL_VALGRIND}", result.stderr)
        self.assertEqual(machine.calls(), [])

    def test_no_install(self):
        machine = self.machine(uid=0)
        result = machine.run("test", NO_INSTALL="1")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"(NO_INSTALL=1); run: apt-get update && {INSTALL_VALGRIND}", result.stderr)
        self.assertEqual(machine.calls(), [])

    def test_dry_run(self):
        machine = self.machine(uid=0)
        result = machine.run("--dry-run", "test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_announced(result)
        self.assertIn(f"would run: apt-get update && {INSTALL_VALGRIND}", result.stdout)
        self.assertEqual(machine.calls(), [])

    def test_build_does_not_need_valgrind(self):
        machine = self.machine(uid=1000)
        result = machine.run("build")
        self.assertEqual((result.returncode, result.stderr), (0, ""))

    def python_without_torch(self, machine):
        python = os.path.join(machine.bin, "python-without-torch")
        write_executable(python, '#!/bin/sh\ncase "$*" in *torch*) exit 1;; esac\nexec /usr/bin/python3 "$@"\n')
        return python

    def test_missing_optional_torch_is_only_noted(self):
        machine = self.machine(uid=1000)
        machine.add_valgrind()
        result = machine.run("bench", PLOT_PYTHON=self.python_without_torch(machine))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("PyTorch for", result.stderr)
        self.assertIn("not installing the optional python3-torch (not root and no usable sudo)", result.stderr)
        self.assertEqual(machine.calls(), [])

    def test_bench_installs_required_then_optional(self):
        machine = self.machine(uid=0)
        result = machine.run("bench", PLOT_PYTHON=self.python_without_torch(machine))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(machine.calls(), ["apt-get update -qq", "apt-get install -y -qq --no-install-recommends valgrind",
                                           "apt-get install -y -qq --no-install-recommends python3-torch"])

    def test_unknown_target(self):
        result = self.machine().run("everything")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip().count("\n"), 0)


def main():
    if not os.path.exists("/usr/bin/python3"):
        print("test_ensure_dependencies: needs /usr/bin/python3 (Debian's)", file=sys.stderr)
        return 77
    for name in ("cc", "c++", "cmake", "make"):
        if not os.path.exists(os.path.join("/usr/bin", name)):
            print(f"test_ensure_dependencies: needs /usr/bin/{name} for the rest of the machine to be complete",
                  file=sys.stderr)
            return 77
    program = unittest.main(exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
