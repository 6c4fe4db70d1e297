#!/usr/bin/env python3
"""Check that editors validate a registry as you type, with the real yaml-language-server.

It installs yaml-language-server (the npm package behind VS Code's YAML extension and most
editors' YAML support) into a git-ignored cache on first use, creates a throwaway registry with
`promptreg init`, and speaks the Language Server Protocol to `yaml-language-server --stdio`:

- a version file that promptreg wrote, edited to `tested: maybe`, gets a diagnostic on that
  line (through the file's modeline, a path relative to the file);
- the same file without its modeline gets it too (through `.vscode/settings.json`'s mapping);
- the files promptreg wrote, unchanged, get none.

Once the server is installed this runs offline. Exit codes: 0 ok, 1 a check failed, 77 the
server is missing and cannot be installed (no node/npm, or no network).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

SERVER_PACKAGE = "yaml-language-server@1.25.0"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / ".cache" / "editor-check"
EXIT_SKIP = 77
AUTHOR = "Editor Check <editor-check@example.com>"
TIMEOUT = 30.0


class CheckFailed(Exception):
    """An expectation about the editor's diagnostics did not hold."""


class Unavailable(Exception):
    """yaml-language-server is not installed and cannot be."""


# -- the server ------------------------------------------------------------------------------------


def server_command(cache: Path) -> list[str]:
    """The command that starts the server, installing it into ``cache`` when missing."""
    script = cache / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    node = shutil.which("node")
    if node is None:
        raise Unavailable("node is not on PATH; install Node.js to run the editor check")
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise Unavailable(
                "npm is not on PATH; install Node.js (with npm) to run the editor check"
            )
        print(f"installing {SERVER_PACKAGE} into {cache} ...", flush=True)
        cache.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", SERVER_PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if r.returncode != 0 or not script.is_file():
            raise Unavailable(f"npm install {SERVER_PACKAGE} failed:\n{r.stdout}{r.stderr}")
    return [node, str(script), "--stdio"]


class LanguageServer:
    """A minimal LSP client: JSON-RPC over the server's stdin and stdout."""

    def __init__(self, command: list[str], root: Path) -> None:
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[bytes] = self.proc.stdin
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self.root = root
        # No schema store: the check is offline, and only promptreg's schemas may answer.
        self.yaml_settings: dict[str, Any] = {
            "validate": True,
            "schemas": {},
            "schemaStore": {"enable": False},
        }
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self._messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is not None:
                self._messages.put(json.loads(out.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self._in.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self._in.flush()

    def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        rid = self._next_id
        self.send({"id": rid, "method": method, "params": params})
        msg = self.wait(lambda m: m.get("id") == rid and "method" not in m, f"reply to {method}")
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def wait(self, want: Any, what: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next message ``want`` accepts; answers the server's own requests meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CheckFailed(f"no {what} from yaml-language-server within {timeout:.0f} s")
            try:
                msg = self._messages.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise CheckFailed(
                    f"yaml-language-server exited while waiting for {what}"
                    " (an interrupted install? delete the --cache folder to reinstall)"
                )
            if "method" in msg and "id" in msg:
                self._answer(msg)
            elif want(msg):
                return msg

    def _answer(self, msg: dict[str, Any]) -> None:
        result: Any = None
        if msg["method"] == "workspace/configuration":
            items = msg["params"]["items"]
            result = [self.yaml_settings if i.get("section") == "yaml" else None for i in items]
        self.send({"id": msg["id"], "result": result})

    def start(self) -> None:
        uri = self.root.as_uri()
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": self.root.name}],
                "capabilities": {
                    "workspace": {"configuration": True},
                    "textDocument": {"publishDiagnostics": {}},
                },
            },
        )
        self.notify("initialized", {})
        self.configure()

    def configure(self) -> None:
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": self.yaml_settings}})

    def diagnostics(self, path: Path, text: str, settle: float = 1.0) -> list[dict[str, Any]]:
        """The diagnostics the server publishes for ``text`` opened as ``path``: the last of
        its publications until none arrives for ``settle`` seconds."""
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
        )

        def published(m: dict[str, Any]) -> bool:
            return (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            )

        found: list[dict[str, Any]] = self.wait(published, f"diagnostics of {path.name}")["params"][
            "diagnostics"
        ]
        while True:
            try:
                found = self.wait(published, "more diagnostics", timeout=settle)["params"][
                    "diagnostics"
                ]
            except CheckFailed:
                break
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        return found

    def stop(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=5)
        except (CheckFailed, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


# -- the registry ----------------------------------------------------------------------------------


def promptreg(*args: str, cwd: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "registry", *args], cwd=cwd, capture_output=True, text=True
    )
    if r.returncode != 0:
        raise CheckFailed(f"promptreg {' '.join(args)} failed:\n{r.stdout}{r.stderr}")


def make_registry(root: Path) -> None:
    """A registry as a team starts it: init, one version, one pointer."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    promptreg("init", cwd=root)
    content = root / "content.txt"
    content.write_text("You are helpful. Question: {query}\n", encoding="utf-8")
    promptreg("new", "greet", "--version", "1.0.0", "-d", "first", "--content-file", str(content),
              "--author", AUTHOR, cwd=root)  # fmt: skip
    content.unlink()
    promptreg("deploy", "greet", "1.0.0", "--env", "development", "--by", AUTHOR, cwd=root)


def line_of(text: str, needle: str) -> int:
    """The 0-based line of ``needle`` in ``text``, as LSP counts lines."""
    for i, line in enumerate(text.splitlines()):
        if line.startswith(needle):
            return i
    raise CheckFailed(f"{needle!r} not found in the test file")


def show(diagnostics: list[dict[str, Any]]) -> str:
    return (
        "; ".join(f"line {d['range']['start']['line'] + 1}: {d['message']}" for d in diagnostics)
        or "none"
    )


def _variant(version: Path, new: str, text: str) -> Path:
    """A sibling of the version file, as version ``new``, holding ``text``."""
    path = version.with_name(f"{new}.yaml")
    path.write_text(text.replace('version: "1.0.0"', f'version: "{new}"'), encoding="utf-8")
    return path


def expect_tested_error(server: LanguageServer, path: Path, how: str) -> None:
    text = path.read_text(encoding="utf-8")
    want = line_of(text, "tested: maybe")
    found = server.diagnostics(path, text)
    if not any(d["range"]["start"]["line"] == want for d in found):
        raise CheckFailed(
            f"{how}: expected a diagnostic on line {want + 1} (tested: maybe), got {show(found)}"
        )
    print(f"ok: {how}: `tested: maybe` reported on line {want + 1} ({show(found)})")


def expect_clean(server: LanguageServer, path: Path) -> None:
    found = server.diagnostics(path, path.read_text(encoding="utf-8"))
    if found:
        raise CheckFailed(f"{path.name}: a valid file got diagnostics: {show(found)}")
    print(f"ok: {path.relative_to(server.root)} as promptreg wrote it: no diagnostics")


def run(cache: Path) -> None:
    command = server_command(cache)
    with tempfile.TemporaryDirectory(prefix="promptreg-editor-check-") as tmp:
        root = Path(tmp).resolve() / "registry"
        make_registry(root)
        version = root / "prompts" / "greet" / "1.0.0.yaml"
        written = version.read_text(encoding="utf-8")
        if "\ntested: false\n" not in written:
            raise CheckFailed(f"{version.name} has no `tested: false` line to edit:\n{written}")
        # Each document gets a file (and so a URI) of its own: the server keeps state per URI.
        edited = _variant(
            version, "1.0.1", written.replace("\ntested: false\n", "\ntested: maybe\n")
        )
        bare = _variant(version, "1.0.2", "".join(edited.read_text().splitlines(True)[1:]))
        server = LanguageServer(command, root)
        try:
            server.start()
            for path in (
                version,
                root / "deployments/development/greet.yaml",
                root / "promptreg.yaml",
            ):
                expect_clean(server, path)
            # Through the modeline alone: no editor settings yet.
            expect_tested_error(server, edited, "modeline")
            # Through the mapping init wrote, for a file without a modeline.
            vscode = json.loads((root / ".vscode/settings.json").read_text(encoding="utf-8"))
            server.yaml_settings["schemas"] = vscode["yaml.schemas"]
            server.configure()
            expect_tested_error(server, bare, ".vscode/settings.json mapping")
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where yaml-language-server is installed (default: {DEFAULT_CACHE})")  # fmt: skip
    args = parser.parse_args()
    try:
        run(args.cache)
    except Unavailable as e:
        print(f"editor-check: skipped: {e}", file=sys.stderr)
        return EXIT_SKIP
    except CheckFailed as e:
        print(f"editor-check: FAILED: {e}", file=sys.stderr)
        return 1
    print("editor-check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
