"""PromptRegistry on a bundle: served from memory, hot reload of a replaced file, the last
good bundle kept through a broken one, and a Kubernetes ConfigMap mount's ``..data`` swap."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import rfc8785

from registry import PromptRegistry, PromptVersion, RegistryError
from registry.bundle.build import build_bundle
from registry.bundle.document import encode
from registry.bundle.serve import BundleRegistry
from registry.errors import (
    EnvironmentNotConfiguredError,
    InvalidIdentifierError,
    NotFoundError,
    ValidationError,
)
from registry.models import Message
from tests.testing import (
    LENIENT_SETTINGS,
    commit_all,
    fresh,
    init_repo,
    pointer_yaml,
    version_yaml,
    write,
)

PROMPTS = ("alpha", "beta", "gamma")


def _versions(version: str) -> list[PromptVersion]:
    """One generation: every prompt at ``version``, its content naming the version."""
    out = [
        PromptVersion(
            pid,
            version,
            content=f"{pid} {version}: {{query}}",
            description=f"Revision {version}",
            author="Dana Reyes <dana@example.com>",
            created_at="2026-11-20T10:00:00Z",
        )
        for pid in PROMPTS[:-1]
    ]
    out.append(
        PromptVersion(
            PROMPTS[-1],
            version,
            messages=(Message("system", f"gamma {version}"), Message("user", "{query}")),
            description=f"Revision {version}",
            author="Lee Park <lee@example.com>",
            created_at="2026-11-20T10:00:00Z",
            model={"name": "m", "temperature": 0.5},
        )
    )
    return out


def bundle_bytes(version: str, environment: str = "production") -> bytes:
    commit = hashlib.sha1(version.encode()).hexdigest()
    return encode(environment, commit, "2026-11-21T09:30:00Z", _versions(version))


def seal(doc: dict[str, object]) -> bytes:
    """A document with a correct sha256, whatever else is wrong with it."""
    doc = {k: v for k, v in doc.items() if k != "sha256"}
    doc["sha256"] = hashlib.sha256(rfc8785.dumps(doc)).hexdigest()
    return rfc8785.dumps(doc)


def replace_file(path: Path, data: bytes) -> None:
    """Replace atomically, as a sync job or ``kubectl cp`` of a temporary file does."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _served(reg: PromptRegistry, environment: str, prompt_id: str = "alpha") -> str | None:
    v = fresh(reg).get_active(prompt_id, environment)
    return None if v is None else v.version


def wait_for(check: object, timeout: float = 3.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if callable(check) and check():
            return time.monotonic() - start
        time.sleep(0.005)
    raise AssertionError("not served in time")


# -- what it serves ----------------------------------------------------------------------------
def test_a_bundle_file_is_served_from_memory(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path)
    assert isinstance(reg, BundleRegistry) and isinstance(reg, PromptRegistry)
    v = reg.get_active("alpha", "production")
    assert v is not None and v.version == "1.0.0" and v.is_active
    assert v.render(query="q") == "alpha 1.0.0: q"
    chat = reg.get_active("gamma", "production")
    assert chat is not None and chat.model == {"name": "m", "temperature": 0.5}
    assert chat.render(query="q")[1] == {"role": "user", "content": "q"}
    assert reg.get_active("nothing_deployed", "production") is None
    assert reg.snapshot_id == hashlib.sha1(b"1.0.0").hexdigest()
    assert reg.bundle.environment == "production" and reg.last_error is None
    path.unlink()  # served from memory: the file is read once
    assert reg.get_active("alpha", "production") is v


def test_another_environment_raises_as_an_unconfigured_one(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path)
    with pytest.raises(EnvironmentNotConfiguredError, match="'staging' is not configured"):
        reg.get_active("alpha", "staging")
    with pytest.raises(InvalidIdentifierError):
        reg.get_active("Not An Id", "production")
    with pytest.raises(InvalidIdentifierError):
        reg.get_active("alpha", "Prod!")


def test_a_bundle_answers_as_the_checkout_it_was_built_from(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    write(repo, "promptreg.yaml", LENIENT_SETTINGS)
    for pid in PROMPTS:
        write(repo, f"prompts/{pid}/1.0.0.yaml", version_yaml(pid, "1.0.0", f"{pid}: {{q}}\n"))
        write(repo, f"deployments/production/{pid}.yaml", pointer_yaml(pid, "production", "1.0.0"))
    # The example registry's evaluated version, with its evaluation record.
    example = Path(__file__).parent.parent / "prompts" / "hr_query_system_prompt" / "1.0.0.yaml"
    write(repo, "prompts/hr_query_system_prompt/1.0.0.yaml", example.read_text())
    pointer = pointer_yaml("hr_query_system_prompt", "production", "1.0.0")
    write(repo, "deployments/production/hr_query_system_prompt.yaml", pointer)
    commit_all(repo, "registry")
    out = tmp_path / "production.json"
    out.write_bytes(build_bundle(repo, "production").data)
    checkout, bundle = PromptRegistry(repo), PromptRegistry(out)
    for pid in (*PROMPTS, "hr_query_system_prompt", "absent"):
        assert bundle.get_active(pid, "production") == checkout.get_active(pid, "production")
    tested = bundle.get_active("hr_query_system_prompt", "production")
    assert tested is not None and tested.evaluation is not None and tested.is_tested


def test_writes_and_history_raise_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path)
    calls = [
        lambda: reg.deploy("alpha", "1.0.0", "production", "me"),
        lambda: reg.rollback("alpha", "production", "me"),
        lambda: reg.undeploy("alpha", "production", "me", reason="retired"),
        lambda: reg.register(_versions("2.0.0")[0]),
        lambda: reg.history("alpha", "production"),
        lambda: reg.get_version("alpha", "1.0.0"),
        lambda: reg.settings,
        lambda: reg.root,
    ]
    for call in calls:
        with pytest.raises(RegistryError, match="is a bundle, which serves get_active only"):
            call()
    assert path.read_bytes() == bundle_bytes("1.0.0")


def test_every_other_public_call_of_a_registry_is_refused_by_a_bundle() -> None:
    """A call added to PromptRegistry must be served or refused here, never reach the
    checkout code with a bundle's path."""
    served = {"get_active", "reload", "close", "snapshot_id", "refresh_interval", "last_error"}
    public = {n for n in dir(PromptRegistry) if not n.startswith("_")}
    missing = [n for n in sorted(public - served) if n not in vars(BundleRegistry)]
    assert missing == []


# -- finding the bundle ------------------------------------------------------------------------
def test_a_folder_serves_its_bundle_json_or_its_only_json_file(tmp_path: Path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    (one / "production.json").write_bytes(bundle_bytes("1.0.0"))
    assert isinstance(PromptRegistry(one), BundleRegistry)
    (one / "staging.json").write_bytes(bundle_bytes("1.0.0", "staging"))
    with pytest.raises(NotFoundError, match=r"2 \*\.json files .* pass the path"):
        PromptRegistry(one)
    (one / "bundle.json").write_bytes(bundle_bytes("2.0.0"))
    reg = PromptRegistry(one)
    assert _served(reg, "production") == "2.0.0"
    assert PromptRegistry(one / "staging.json").get_active("alpha", "staging") is not None


def test_a_registry_folder_is_never_taken_for_a_bundle(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write(plain, "promptreg.yaml", LENIENT_SETTINGS)
    write(plain, "package.json", "{}")
    assert not isinstance(PromptRegistry(plain), BundleRegistry)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not isinstance(PromptRegistry(empty), BundleRegistry)


def test_a_missing_bundle_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        PromptRegistry(tmp_path / "bundle.json")


# -- broken bundles ----------------------------------------------------------------------------
def _broken() -> dict[str, bytes]:
    good = bundle_bytes("1.0.0")
    doc = json.loads(good)
    wrong_format = dict(doc, format="promptreg-bundle/9")
    no_content = json.loads(good)
    no_content["prompts"]["alpha"]["content"] = None
    bad_id = json.loads(good)
    bad_id["prompts"]["Bad Id"] = bad_id["prompts"].pop("alpha")
    return {
        "truncated": good[: len(good) // 2],
        "one byte short": good[:-1],
        "edited": good.replace(b"alpha 1.0.0", b"alpha 6.6.6"),
        "empty": b"",
        "not json": seal({}).replace(b"{", b"[", 1),
        "wrong format": seal(wrong_format),
        "neither content nor messages": seal(no_content),
        "bad prompt id": seal(bad_id),
    }


@pytest.mark.parametrize("case", list(_broken()))
def test_a_broken_bundle_is_refused_at_start(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(_broken()[case])
    with pytest.raises(ValidationError, match=str(path)):
        PromptRegistry(path)


@pytest.mark.parametrize("case", list(_broken()))
def test_a_broken_update_keeps_the_last_good_bundle(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path, refresh_interval=0.0)
    replace_file(path, _broken()[case])
    assert reg.reload() is False
    assert _served(reg, "production") == "1.0.0"
    assert reg.last_error is not None and "update rejected" in reg.last_error
    assert str(path) in reg.last_error
    replace_file(path, bundle_bytes("2.0.0"))
    assert _served(reg, "production") == "2.0.0"
    assert reg.last_error is None


def test_a_bundle_of_another_environment_is_not_an_update(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path, refresh_interval=0.0)
    replace_file(path, bundle_bytes("2.0.0", "staging"))
    assert _served(reg, "production") == "1.0.0"
    assert reg.last_error is not None and "is a bundle of staging" in reg.last_error


def test_a_vanished_bundle_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path, refresh_interval=0.0)
    path.unlink()
    assert _served(reg, "production") == "1.0.0"
    assert reg.last_error is not None and "does not exist" in reg.last_error


def test_a_file_rewritten_in_place_is_served_once_complete(tmp_path: Path) -> None:
    """A writer that truncates and writes (no rename): a reload in between sees a torn file,
    refuses it, and takes the finished file at the next check."""
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path, refresh_interval=0.0)
    new = bundle_bytes("2.0.0")
    with path.open("r+b") as f:
        f.truncate(0)
        f.write(new[:100])
        f.flush()
        assert _served(reg, "production") == "1.0.0"
        assert reg.last_error is not None
        f.write(new[100:])
    assert _served(reg, "production") == "2.0.0"
    assert reg.last_error is None


def test_a_fifo_where_the_bundle_belongs_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path, refresh_interval=0.0)
    path.unlink()
    os.mkfifo(path)
    assert _served(reg, "production") == "1.0.0"
    assert reg.last_error is not None and "not a regular file" in reg.last_error


# -- hot reload --------------------------------------------------------------------------------
def test_a_replaced_file_is_served_within_about_a_second(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    reg = PromptRegistry(path)  # the default refresh interval
    assert _served(reg, "production") == "1.0.0"
    replace_file(path, bundle_bytes("2.0.0"))
    took = wait_for(lambda: _served(reg, "production") == "2.0.0")
    assert took < 1.0


def publish(mount: Path, files: dict[str, bytes], stamp: str) -> None:
    """Update a ConfigMap volume as kubelet's atomic writer does: the files go into a new
    timestamped folder, a ``..data_tmp`` symlink to it is renamed over ``..data``, each
    top-level name is a symlink into ``..data``, and the old folder is deleted."""
    new = mount / f"..{stamp}"
    new.mkdir()
    for name, data in files.items():
        (new / name).write_bytes(data)
    data_link = mount / "..data"
    old = os.readlink(data_link) if data_link.is_symlink() else None
    tmp = mount / "..data_tmp"
    os.symlink(new.name, tmp)
    os.rename(tmp, data_link)
    for name in files:
        if not (mount / name).is_symlink():
            os.symlink(f"..data/{name}", mount / name)
    if old is not None:
        shutil.rmtree(mount / old)


def _stamp(i: int) -> str:
    return f"2026_12_02_01_00_{i:02d}.{123 + i}"


def _coherent(v: PromptVersion | None) -> bool:
    if v is None:
        return False
    if v.content is not None:
        text = v.content
    else:
        assert v.messages is not None
        text = v.messages[0].content
    return text.startswith(f"{v.prompt_id} {v.version}")


@pytest.mark.parametrize("through", ["folder", "file symlink"])
def test_a_configmap_swap_is_served_whole_under_concurrent_readers(
    tmp_path: Path, through: str
) -> None:
    mount = tmp_path / "prompts"
    mount.mkdir()
    generations = [f"{1 + i}.0.0" for i in range(12)]
    blobs = {g: bundle_bytes(g) for g in generations}
    publish(mount, {"bundle.json": blobs[generations[0]]}, _stamp(0))
    assert sorted(os.listdir(mount)) == ["..2026_12_02_01_00_00.123", "..data", "bundle.json"]
    reg = PromptRegistry(mount if through == "folder" else mount / "bundle.json",
                         refresh_interval=0.01)  # fmt: skip
    problems: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                b = reg.bundle
                versions = {v.version for v in b.prompts.values()}
                if len(versions) != 1 or not all(_coherent(v) for v in b.prompts.values()):
                    problems.append(f"torn bundle: {sorted(versions)}")
                for pid in PROMPTS:
                    v = reg.get_active(pid, "production")
                    if v is None or not _coherent(v) or v.version not in blobs:
                        problems.append(f"wrong answer for {pid}: {v}")
                    else:
                        seen.add(v.version)
                if reg.last_error is not None:
                    problems.append(f"last_error during a swap: {reg.last_error}")
            except Exception as exc:
                problems.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i, g in enumerate(generations[1:], start=1):
            publish(mount, {"bundle.json": blobs[g]}, _stamp(i))
            wait_for(lambda g=g: _served(reg, "production") == g)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []
    assert len(seen) >= 2  # the readers saw the swaps happen
    assert len([n for n in os.listdir(mount) if n.startswith("..2026")]) == 1


def test_a_configmap_with_a_bundle_per_environment(tmp_path: Path) -> None:
    mount = tmp_path / "prompts"
    mount.mkdir()
    both = {
        "production.json": bundle_bytes("1.0.0"),
        "staging.json": bundle_bytes("2.0.0", "staging"),
    }
    publish(mount, both, _stamp(0))
    prod = PromptRegistry(mount / "production.json", refresh_interval=0.0)
    staging = PromptRegistry(mount / "staging.json", refresh_interval=0.0)
    assert _served(prod, "production") == "1.0.0"
    assert _served(staging, "staging") == "2.0.0"
    publish(mount, dict(both, **{"production.json": bundle_bytes("3.0.0")}), _stamp(1))
    assert _served(prod, "production") == "3.0.0"
    assert staging.reload() is False and staging.last_error is None


def test_closed_registry_refuses_reads(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    with PromptRegistry(path) as reg:
        assert reg.get_active("alpha", "production") is not None
    with pytest.raises(RegistryError, match="closed"):
        reg.get_active("alpha", "production")


def test_in_place_rewrites_under_concurrent_readers_never_serve_a_torn_bundle(
    tmp_path: Path,
) -> None:
    """A careless writer (truncate, then write in pieces) against readers reloading all the
    time: each answer is one whole generation, never a part of one."""
    path = tmp_path / "bundle.json"
    generations = [f"{1 + i}.0.0" for i in range(6)]
    blobs = [bundle_bytes(g) for g in generations]
    path.write_bytes(blobs[0])
    reg = PromptRegistry(path, refresh_interval=0.0)
    problems: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            b = reg.bundle
            if len({v.version for v in b.prompts.values()}) != 1 or len(b.prompts) != 3:
                problems.append("torn bundle")
            v = reg.get_active("beta", "production")
            if v is None or not _coherent(v):
                problems.append(f"wrong answer: {v}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for blob in blobs[1:] * 3:
            with path.open("r+b") as f:
                f.truncate(0)
                for i in range(0, len(blob), 97):
                    f.write(blob[i : i + 97])
                    f.flush()
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert problems == []
    assert _served(reg, "production") == generations[-1]
    assert reg.last_error is None


def test_serving_a_bundle_stays_light(tmp_path: Path) -> None:
    """An application reading a bundle loads neither jsonschema, git, click nor rfc8785."""
    import subprocess
    import sys

    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes("1.0.0"))
    code = (
        "import sys, registry; r = registry.PromptRegistry(sys.argv[1]);"
        " assert r.get_active('alpha', 'production').version == '1.0.0';"
        " print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('git', 'jsonschema', 'click', 'rfc8785')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
