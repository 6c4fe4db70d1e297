"""``promptreg bundle``: the bundle of one environment, built from one commit's content.

The bundle is read from the commit (default HEAD), never from the working tree, so the same
commit always gives the same bytes and an uncommitted edit cannot ship. Before anything is
written, the files the bundle depends on (the settings, the environment's pointers and the
versions they name) go through ``check``'s own rules at that commit: a bundle never ships
what ``promptreg check`` refuses.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from registry.errors import EnvironmentNotConfiguredError, NotFoundError, ValidationError
from registry.ids import validate_environment
from registry.models import Problem, PromptVersion
from registry.paths import DEPLOYMENTS, PROMPTS, SETTINGS, version_path
from registry.sources import Entry, GitSource
from registry.view import RegistryView
from registry.yamlio.load import Loaded, load_yaml_bytes


@dataclass(frozen=True)
class BuiltBundle:
    """The bytes of a bundle and what they hold."""

    data: bytes
    environment: str
    commit: str
    committed_at: str
    sha256: str
    prompts: int


def build_bundle(root: Path, environment: str, rev: str = "HEAD") -> BuiltBundle:
    """The bundle of ``environment`` at ``rev``; raises ValidationError listing every problem
    of the files it depends on (one per line), EnvironmentNotConfiguredError for an
    environment the commit's settings lack, NotFoundError for a revision naming no commit."""
    from registry.gitio.repo import is_work_tree
    from registry.gitio.run import rev_parse

    validate_environment(environment)
    if not is_work_tree(root):
        raise NotFoundError(f"{root} is not a git work tree; a bundle is built from a commit")
    commit = rev_parse(root, rev)
    if commit is None:
        raise NotFoundError(f"git revision {rev!r} names no commit in {root}")
    source = _Prefetching(root, commit, environment)
    try:
        versions = _served_versions(source, environment, commit)
    finally:
        source.close()
    from registry.bundle.document import digest_of, encode

    when = committed_at(root, commit)
    data = encode(environment, commit, when, versions)
    digest = digest_of(data)
    assert digest is not None  # encode writes the sha256 its bytes have
    return BuiltBundle(data, environment, commit, when, digest, len(versions))


def _served_versions(source: _Prefetching, environment: str, commit: str) -> list[PromptVersion]:
    """The versions the environment's pointers name, once check's rules pass on the settings,
    those pointers and those versions."""
    source.prefetch(e.path for e in source.entries())
    pointers = RegistryView(source)
    settings = pointers.settings_result()
    if settings.problems:
        raise _refused(settings.problems, environment, commit)
    assert settings.record is not None
    if settings.record.get(environment) is None:
        raise EnvironmentNotConfiguredError(
            f"environment {environment!r} is not configured in {SETTINGS} at commit"
            f" {commit[:12]}; configured: {', '.join(settings.record.names)}"
        )
    named = [
        p
        for _, pid in sorted(pointers.pointer_index())
        if (p := pointers.pointer(environment, pid))
    ]
    source.show({version_path(p.prompt_id, p.version) for p in named if p.version is not None})
    # A view of exactly those files: check judges all of them and nothing else. The runtime's
    # schema interpreter gives jsonschema's verdicts and messages (test_decode_agreement.py)
    # in a fraction of the time.
    view = RegistryView(source)
    problems = _check_problems(view)
    if problems:
        raise _refused(problems, environment, commit)
    out = []
    for ptr in named:
        if ptr.version is None:
            continue  # a removed deployment (a tombstone): nothing is served
        v = view.version(ptr.prompt_id, ptr.version)
        assert v is not None  # it passed the check
        out.append(v)
    return out


class _Prefetching(GitSource):
    """The files of a commit that one environment's bundle depends on: the settings, that
    environment's pointers and the versions shown (``show``), fetched in pipelined cat-file
    requests. The other environments and versions are not listed, so check judges none of
    them: a bundle ships this environment's versions only."""

    def __init__(self, root: Path, commit: str, environment: str) -> None:
        super().__init__(root, commit)
        self._folder = f"{DEPLOYMENTS}/{environment}/"
        self._shown: set[str] = set()
        self._blobs: dict[str, bytes] = {}
        self._all: list[Entry] | None = None

    def show(self, versions: set[str]) -> None:
        """List these version files too, and fetch them."""
        self._shown |= versions
        self.prefetch(versions)

    def entries(self) -> list[Entry]:
        if self._all is None:
            self._all = super().entries()
        return [
            e
            for e in self._all
            if e.path == SETTINGS or e.path.startswith(self._folder) or e.path in self._shown
        ]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Fetch the regular files among ``paths`` in one request."""
        tree = self._tree()
        wanted = sorted(p for p in paths if p in tree and tree[p].mode in ("100644", "100755"))
        found = self.cat.read_many([tree[p].sha for p in wanted])
        self._blobs.update((p, b) for p, b in zip(wanted, found, strict=True) if b is not None)

    def load(self, path: str) -> Loaded | None:
        data = self._blobs.get(path)
        return super().load(path) if data is None else load_yaml_bytes(data, path)


def _check_problems(view: RegistryView) -> list[Problem]:
    """The errors ``check`` finds in the view, the promotion rules aside: they judge a
    change, and a bundle ships a state already in place (as check of a commit, it compares
    no version with the released ones beside it)."""
    from registry.check.rules import check_view

    return [p for p in check_view(view, None, promotions=set(), evidence=None) if p.is_error]


def _refused(problems: list[Problem], environment: str, commit: str) -> ValidationError:
    head = (
        f"no bundle of {environment} written: promptreg check refuses {len(problems)}"
        f" problem(s) at commit {commit[:12]}:"
    )
    return ValidationError("\n".join([head, *(str(p) for p in problems)]), problems)


def committed_at(root: Path, commit: str) -> str:
    """The committer date of ``commit`` in UTC, as RFC 3339."""
    from registry.gitio.run import run_git

    out = run_git(root, "log", "-1", "--format=%ct", commit, "--").strip()
    try:
        seconds = int(out)
    except ValueError:
        raise ValidationError(f"commit {commit[:12]} has no readable committer date") from None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def uncommitted_changes(root: Path) -> list[str]:
    """The registry files (settings, prompts/, deployments/) whose working-tree state differs
    from HEAD: what a bundle of HEAD leaves out."""
    from registry.gitio.run import run_git

    out = run_git(
        root, "status", "--porcelain", "-z", "--untracked-files=all", "--", SETTINGS,
        PROMPTS, DEPLOYMENTS,
    )  # fmt: skip
    records = out.decode("utf-8", "surrogateescape").split("\0")
    return sorted({r[3:] for r in records if len(r) > 3})
