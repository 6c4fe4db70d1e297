"""Build the benchmark's reference registry as a real git repository, in seconds.

The history is planned first (a pure, seeded list of versions and deployments),
then written with one ``git fast-import`` stream, either as a promptreg registry
(version files and deployment pointer commits) or as the equivalent GTO registry
(one commit per version, annotated tags for versions and stage assignments).

    python benchmarks/make_registry.py DEST [--scale 1] [--gto]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

ENVIRONMENTS = ("development", "staging", "production")
HOT_PROMPT = "hot_prompt"
HOT_ENVIRONMENT = "production"
PEOPLE = (
    ("Dana Reyes", "dana@example.com"),
    ("Lee Park", "lee@example.com"),
    ("Sam Okafor", "sam@example.com"),
)
EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z
TICK = 7 * 60  # seconds between two commits of the generated history
HOT_ROLLBACK_RATE = 0.2
ROLLBACK_RATE = 0.05

Person = tuple[str, str]


@dataclass(frozen=True)
class Shape:
    """How big the registry is; ``scale`` multiplies the deployment history only."""

    prompts: int = 1_000  # besides hot_prompt
    versions: int = 10
    deploys: int = 20_000  # deployment commits, the hot ones included
    hot_deploys: int = 1_000
    seed: int = 7

    def scaled(self, scale: float) -> Shape:
        """The same registry with a history ``scale`` times as long."""
        return replace(
            self,
            deploys=max(1, round(self.deploys * scale)),
            hot_deploys=max(1, round(self.hot_deploys * scale)),
        )


@dataclass(frozen=True)
class Deployment:
    """One change of a deployment pointer: the commit that makes ``version`` active."""

    prompt_id: str
    environment: str
    version: str
    previous: str | None
    action: str  # deploy | rollback
    actor: Person


@dataclass(frozen=True)
class Plan:
    """The whole generated history, independent of how it is written."""

    shape: Shape
    versions: dict[str, tuple[str, ...]]  # prompt_id -> versions, oldest first
    authors: dict[str, Person]
    deployments: tuple[Deployment, ...]

    @property
    def prompt_ids(self) -> list[str]:
        """Every prompt, hot_prompt last."""
        return list(self.versions)

    def final_active(self) -> dict[tuple[str, str], str]:
        """(prompt_id, environment) -> the version active at the tip of the history."""
        return {(d.prompt_id, d.environment): d.version for d in self.deployments}

    def hot_versions(self) -> list[str]:
        """The production versions of hot_prompt, in deployment order."""
        return [
            d.version
            for d in self.deployments
            if (d.prompt_id, d.environment) == (HOT_PROMPT, HOT_ENVIRONMENT)
        ]


@dataclass(frozen=True)
class Built:
    """A registry on disk and what it took to build it."""

    path: Path
    commits: int
    tags: int
    seconds: float


def version_names(count: int) -> tuple[str, ...]:
    """``count`` SemVer versions in ascending order: 1.0.0 .. 1.4.0, 2.0.0 .. 2.4.0, ..."""
    return tuple(f"{1 + i // 5}.{i % 5}.0" for i in range(count))


def plan(shape: Shape) -> Plan:
    """The seeded history: which versions exist, and every deployment in commit order."""
    rnd = random.Random(shape.seed)
    prompt_ids = [f"prompt_{i:05d}" for i in range(shape.prompts)] + [HOT_PROMPT]
    versions = {pid: version_names(shape.versions) for pid in prompt_ids}
    authors = {pid: rnd.choice(PEOPLE) for pid in prompt_ids}
    hot_slots = set(rnd.sample(range(shape.deploys), min(shape.hot_deploys, shape.deploys)))
    active: dict[tuple[str, str], str] = {}
    previous: dict[tuple[str, str], str | None] = {}
    deployments = []
    for slot in range(shape.deploys):
        if slot in hot_slots:
            key, rollback_rate = (HOT_PROMPT, HOT_ENVIRONMENT), HOT_ROLLBACK_RATE
        else:
            key, rollback_rate = (
                (rnd.choice(prompt_ids[:-1]), rnd.choice(ENVIRONMENTS)),
                ROLLBACK_RATE,
            )
        current, before = active.get(key), previous.get(key)
        if before is not None and rnd.random() < rollback_rate:
            version, action = before, "rollback"
        else:
            # Every deployment changes the active version, so each commit is one history event.
            choices = [v for v in versions[key[0]] if v != current]
            version, action = rnd.choice(choices), "deploy"
        active[key], previous[key] = version, current
        deployments.append(Deployment(*key, version, current, action, rnd.choice(PEOPLE)))
    return Plan(shape, versions, authors, tuple(deployments))


def rfc3339(when: int) -> str:
    """A UTC RFC 3339 timestamp for a unix time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def settings_yaml() -> str:
    """promptreg.yaml letting every environment take untested versions, so the registry is valid."""
    lines = ["environments:"] + [f"  {env}: {{require_tested: false}}" for env in ENVIRONMENTS]
    return "\n".join(lines) + "\n"


def version_yaml(prompt_id: str, version: str, author: Person, when: int) -> str:
    """A valid, untested prompt version file (SPEC 3.1)."""
    return (
        f"prompt_id: {prompt_id}\n"
        f'version: "{version}"\n'
        f'description: "Revision {version} of {prompt_id}"\n'
        f'author: "{author[0]} <{author[1]}>"\n'
        f'created_at: "{rfc3339(when)}"\n'
        "content: |\n"
        f"  You are the assistant for {prompt_id} (revision {version}).\n"
        "  Answer using only this context:\n"
        "  {context}\n"
        "  Question: {query}\n"
        "variables: [context, query]\n"
        "tested: false\n"
    )


def pointer_yaml(d: Deployment, when: int) -> str:
    """A deployment pointer file (SPEC 3.2)."""
    previous = "null" if d.previous is None else f'"{d.previous}"'
    return (
        f"prompt_id: {d.prompt_id}\n"
        f"environment: {d.environment}\n"
        f'version: "{d.version}"\n'
        f"previous_version: {previous}\n"
        f"action: {d.action}\n"
        f'deployed_by: "{d.actor[0]} <{d.actor[1]}>"\n'
        f'deployed_at: "{rfc3339(when)}"\n'
        f"reason: {describe(d)}\n"
    )


def describe(d: Deployment) -> str:
    """The commit message of a deployment."""
    verb = "Roll back" if d.action == "rollback" else "Deploy"
    return f"{verb} {d.prompt_id} {d.version} to {d.environment}"


class FastImport:
    """One ``git fast-import`` stream into a repository: commits on main and annotated tags."""

    def __init__(self, repo: Path) -> None:
        self._proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE
        )
        assert self._proc.stdin is not None
        self._out: IO[bytes] = self._proc.stdin
        self.commits = 0
        self.tags = 0
        self.clock = EPOCH

    def _data(self, payload: bytes) -> None:
        self._out.write(b"data %d\n%s\n" % (len(payload), payload))

    def commit(self, who: Person, message: str, files: Iterable[tuple[str, str]]) -> int:
        """Append one commit to main; returns its mark."""
        self.clock += TICK
        self.commits += 1
        ident = f"{who[0]} <{who[1]}> {self.clock} +0000"
        head = f"commit refs/heads/main\nmark :{self.commits}\n"
        head += f"author {ident}\ncommitter {ident}\n"
        self._out.write(head.encode())
        self._data(message.encode() + b"\n")
        if self.commits > 1:
            self._out.write(b"from :%d\n" % (self.commits - 1))
        for path, text in files:
            self._out.write(f"M 100644 inline {path}\n".encode())
            self._data(text.encode())
        self._out.write(b"\n")
        return self.commits

    def tag(self, name: str, mark: int, who: Person, message: str) -> None:
        """An annotated tag on the commit ``mark``, one tick after the last event."""
        self.clock += TICK
        self.tags += 1
        head = f"tag {name}\nfrom :{mark}\ntagger {who[0]} <{who[1]}> {self.clock} +0000\n"
        self._out.write(head.encode())
        self._data(message.encode() + b"\n")

    def close(self) -> None:
        """Finish the stream; a truncated stream is rejected by ``--done``."""
        self._out.write(b"done\n")
        self._out.close()
        if self._proc.wait() != 0:
            raise RuntimeError("git fast-import failed")


def git(repo: Path, *args: str) -> None:
    """Run a git command in ``repo`` quietly; raise when it fails."""
    subprocess.run(["git", *args], cwd=repo, check=True, stdout=subprocess.DEVNULL)


def new_repo(dest: Path) -> None:
    """An empty repository on branch main with a pinned identity for later commits."""
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(dest.parent, "init", "-q", "-b", "main", str(dest))
    git(dest, "config", "user.name", "promptreg bench")
    git(dest, "config", "user.email", "bench@promptreg.invalid")


def finish_repo(dest: Path) -> None:
    """Check the imported main out and pack refs the way a clone has them."""
    git(dest, "checkout", "-q", "-f", "main")
    git(dest, "pack-refs", "--all")


def write_promptreg(p: Plan, dest: Path) -> Built:
    """The promptreg registry: one commit per prompt, then one commit per deployment."""
    start = time.perf_counter()
    new_repo(dest)
    fi = FastImport(dest)
    for i, pid in enumerate(p.prompt_ids):
        author = p.authors[pid]
        files = [
            (f"prompts/{pid}/{v}.yaml", version_yaml(pid, v, author, fi.clock + TICK))
            for v in p.versions[pid]
        ]
        if i == 0:
            files.insert(0, ("promptreg.yaml", settings_yaml()))
        fi.commit(author, f"Add {pid} versions", files)
    for d in p.deployments:
        path = f"deployments/{d.environment}/{d.prompt_id}.yaml"
        fi.commit(d.actor, describe(d), [(path, pointer_yaml(d, fi.clock + TICK))])
    fi.close()
    finish_repo(dest)
    return Built(dest, fi.commits, fi.tags, time.perf_counter() - start)


def gto_name(prompt_id: str) -> str:
    """GTO artifact names allow no underscore: hot_prompt becomes hot-prompt."""
    return prompt_id.replace("_", "-")


def write_gto(p: Plan, dest: Path) -> Built:
    """The equivalent GTO registry: ``name@vX.Y.Z`` on a commit per version, ``name#stage#N``.

    In GTO a version is a commit of the artifact's path, so each prompt is one file
    (``prompts/<prompt_id>.yaml``) that every version commit rewrites; GTO reads the whole
    tree of every tagged commit, so keeping every version as its own file would make each
    commit's tree ten times larger than the natural GTO layout.
    """
    start = time.perf_counter()
    new_repo(dest)
    fi = FastImport(dest)
    version_commit: dict[tuple[str, str], int] = {}
    for pid in p.prompt_ids:
        author = p.authors[pid]
        for v in p.versions[pid]:
            path = f"prompts/{pid}.yaml"
            text = version_yaml(pid, v, author, fi.clock + TICK)
            mark = fi.commit(author, f"Add {pid} {v}", [(path, text)])
            version_commit[pid, v] = mark
            fi.tag(f"{gto_name(pid)}@v{v}", mark, author, f"Register {pid} {v}")
    counters: dict[str, int] = {}
    for d in p.deployments:
        counters[d.prompt_id] = counters.get(d.prompt_id, 0) + 1
        name = f"{gto_name(d.prompt_id)}#{d.environment}#{counters[d.prompt_id]}"
        fi.tag(name, version_commit[d.prompt_id, d.version], d.actor, describe(d))
    fi.close()
    finish_repo(dest)
    return Built(dest, fi.commits, fi.tags, time.perf_counter() - start)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--scale", type=float, default=1.0, help="history length multiplier")
    parser.add_argument("--seed", type=int, default=Shape.seed)
    parser.add_argument("--gto", action="store_true", help="write the GTO equivalent instead")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shape = Shape(seed=args.seed).scaled(args.scale)
    writer = write_gto if args.gto else write_promptreg
    built = writer(plan(shape), args.dest)
    print(f"{built.path}: {built.commits} commits, {built.tags} tags in {built.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
