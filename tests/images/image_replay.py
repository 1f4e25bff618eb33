"""Rebuilds a connector image's virtual environment without Docker, as its Dockerfile does.

The build is the one `build-local.sh --dry-run <connector>` prints: the same Dockerfile
and build arguments. The build stage's `WORKDIR`s and `COPY`s are replayed from a copy of
the build context into a folder standing for the stage's `/`, then its one
`RUN ... docker-install.sh ...` runs there, with absolute paths moved under that folder.
The final stage tells what the image keeps (`COPY --from`), its `PATH`, labels, user and
ENTRYPOINT, which is then resolved inside the rebuilt environment.

The interpreter is the one the caller names (the tests pass their own), not the base
image's: the same commands and files, possibly under another Python minor version.
"""

from __future__ import annotations

import itertools
import json
import os
import posixpath
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .dockerfile import Dockerfile, Instruction, Stage, expand, labels, read_dockerfile
from .dockerfile import stage_variables as variables_at
from .repo_files import REPO_ROOT

INSTALL_SCRIPT = "docker-install.sh"
# build-local.sh reads these; a developer's shell must not change what the tests build.
BUILD_LOCAL_SETTINGS = frozenset({"REGISTRY", "BASE_IMAGE", "PYTHON_IMAGE", "MODULE", "USAGE_RATE"})
INSTALL_TIMEOUT_SECONDS = 900


class InstallFailed(Exception):
    """docker-install.sh exited non-zero; the message ends with its stderr."""


@dataclass(frozen=True)
class ImageBuild:
    """What build-local.sh would run for one connector."""

    dockerfile: Path
    build_args: dict[str, str]
    tag: str


@dataclass(frozen=True)
class ImageEnvironment:
    """A rebuilt image: its ENTRYPOINT argv and environment on this machine."""

    argv: list[str]
    env: dict[str, str]
    labels: dict[str, str]
    user: str
    venv: Path
    install_log: str
    """What docker-install.sh wrote to stderr."""


def planned_build(
    connector: str, *, root: Path = REPO_ROOT, env: dict[str, str] | None = None
) -> ImageBuild:
    """The connector build build-local.sh prints in its dry run (its last command)."""
    completed = subprocess.run(
        ["bash", str(root / "build-local.sh"), "--dry-run", connector],
        capture_output=True,
        text=True,
        check=True,
        env={**build_local_environment(), **(env or {})},
        timeout=60,
    )
    words = shlex.split(completed.stdout.strip().splitlines()[-1])
    build_args = {}
    for flag, value in itertools.pairwise(words):
        if flag == "--build-arg":
            name, _, arg = value.partition("=")
            build_args[name] = arg
    return ImageBuild(
        dockerfile=root / words[words.index("--file") + 1],
        build_args=build_args,
        tag=words[words.index("--tag") + 1],
    )


def build_local_environment() -> dict[str, str]:
    """This process's environment without the settings of build-local.sh."""
    return {name: value for name, value in os.environ.items() if name not in BUILD_LOCAL_SETTINGS}


def install_run(dockerfile: Dockerfile) -> tuple[Stage, Instruction]:
    """The build stage and its one RUN of docker-install.sh."""
    found = [
        (stage, instruction)
        for stage in dockerfile.stages
        for instruction in stage.of("RUN")
        if INSTALL_SCRIPT in instruction.text
    ]
    if len(found) != 1:
        raise LookupError(
            f"{dockerfile.path} runs {INSTALL_SCRIPT} {len(found)} times; expected exactly once"
        )
    return found[0]


def replay(build: ImageBuild, *, context: Path, stage_root: Path, python: str) -> ImageEnvironment:
    """Rebuilds the image of `build` from the build context copy `context`."""
    dockerfile = read_dockerfile(build.dockerfile)
    stage, run = install_run(dockerfile)
    workdir = "/"
    for instruction in stage.instructions:
        if instruction is run:
            break
        values = variables_at(dockerfile, stage, build_args=build.build_args, upto=instruction)
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, expand(instruction.text, values))
        elif instruction.keyword == "COPY" and "--from" not in instruction.text:
            words = [w for w in shlex.split(instruction.text) if not w.startswith("--")]
            *sources, target = [expand(word, values) for word in words]
            for source in sources:
                _copy(context / source, _inside(stage_root, posixpath.join(workdir, target)))

    values = variables_at(dockerfile, stage, build_args=build.build_args, upto=run)
    words = [expand(word, values) for word in shlex.split(run.text) if not word.startswith("--")]
    script_at = next(i for i, word in enumerate(words) if word.endswith(INSTALL_SCRIPT))
    if any(word in {"&&", "||", ";", "|"} for word in words):
        raise AssertionError(f"{build.dockerfile}:{run.line}: keep the install RUN one command")
    script = posixpath.join(workdir, words[script_at])
    arguments = [
        _inside(stage_root, word) if word.startswith("/") else word
        for word in words[script_at + 1 :]
    ]
    venv_in_image = words[script_at + 1]
    cwd = _inside(stage_root, workdir)
    installed = subprocess.run(
        [*words[:script_at], _inside(stage_root, script), *map(str, arguments)],
        cwd=cwd,
        env={**os.environ, "PYTHON": python},
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if installed.returncode != 0:
        raise InstallFailed(
            f"{build.dockerfile}:{run.line}: {INSTALL_SCRIPT} exited {installed.returncode}:\n"
            f"{installed.stderr[-4000:]}"
        )
    return _final_image(
        dockerfile,
        build_args=build.build_args,
        build_stage=stage,
        venv_in_image=venv_in_image,
        stage_root=stage_root,
        install_log=installed.stderr,
    )


def _final_image(
    dockerfile: Dockerfile,
    *,
    build_args: dict[str, str],
    build_stage: Stage,
    venv_in_image: str,
    stage_root: Path,
    install_log: str,
) -> ImageEnvironment:
    final = dockerfile.final
    copies = [
        shlex.split(instruction.text)
        for instruction in final.of("COPY")
        if instruction.text.startswith("--from=")
    ]
    assert copies == [[f"--from={build_stage.name}", venv_in_image, venv_in_image]], (
        f"{dockerfile.path}: the final stage must copy exactly the environment "
        f"{venv_in_image} from stage {build_stage.name}, to the same path; it copies {copies}"
    )
    image_labels: dict[str, str] = {}
    path = os.environ["PATH"]
    for instruction in final.instructions:
        values = variables_at(dockerfile, final, build_args=build_args, upto=instruction)
        if instruction.keyword == "LABEL":
            image_labels.update(labels(instruction.text, values))
        elif instruction.keyword == "ENV" and instruction.text.startswith("PATH="):
            image_path = expand(instruction.text.removeprefix("PATH="), {**values, "PATH": "$HOST"})
            path = ":".join(
                os.environ["PATH"] if entry == "$HOST" else str(_inside(stage_root, entry))
                for entry in image_path.split(":")
            )
    users = final.of("USER")
    entrypoints = final.of("ENTRYPOINT")
    assert entrypoints, f"{dockerfile.path}: the final stage sets no ENTRYPOINT"
    argv = json.loads(entrypoints[-1].text)
    assert isinstance(argv, list), f"{dockerfile.path}: ENTRYPOINT must be exec form (a JSON list)"
    venv = _inside(stage_root, venv_in_image)
    program = shutil.which(argv[0], path=path)
    assert program is not None, f"{dockerfile.path}: ENTRYPOINT {argv[0]!r} is not on the PATH"
    assert Path(program).is_relative_to(venv), (
        f"{dockerfile.path}: ENTRYPOINT {argv[0]!r} must resolve inside {venv_in_image}, "
        f"found {program}"
    )
    return ImageEnvironment(
        argv=[program, *argv[1:]],
        env={**os.environ, "PATH": path},
        labels=image_labels,
        user=users[-1].text if users else "",
        venv=venv,
        install_log=install_log,
    )


def _inside(stage_root: Path, image_path: str) -> Path:
    return stage_root / posixpath.normpath(image_path).lstrip("/")


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / source.name if target.is_dir() else target)
