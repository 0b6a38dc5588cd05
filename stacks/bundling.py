"""Local (Docker-free) bundling: Lambda assets and SageMaker job sources are built from the one core package.

Nothing is copied by hand into lambdas/ or sagemaker_jobs/: at synth time these bundlers assemble
each asset from the repository's packages, so the code that runs in Lambda, in a SageMaker
container and in the local AWS is the same code the tests import.
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import tarfile
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, BundlingOutput, DockerImage, ILocalBundling

ROOT = Path(__file__).resolve().parents[1]
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Never used: CDK requires an image even when local bundling always succeeds.
_UNUSED_IMAGE = DockerImage.from_registry("public.ecr.aws/sam/build-python3.13")


def _copy_module(name: str, out: Path) -> None:
    """Copy an installed package (a directory) or single-file module into `out`."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None and not spec.submodule_search_locations:
        raise RuntimeError(f"module {name!r} is not installed; run `make test` or `pip install -e .`")
    if spec.submodule_search_locations:
        source = Path(next(iter(spec.submodule_search_locations)))
        shutil.copytree(source, out / name, dirs_exist_ok=True, ignore=_IGNORE)
    else:
        shutil.copy2(str(spec.origin), out / Path(str(spec.origin)).name)


@jsii.implements(ILocalBundling)
class _LambdaBundler:
    def __init__(self, handler_dir: Path, packages: tuple[str, ...]) -> None:
        self.handler_dir, self.packages = handler_dir, packages

    def try_bundle(self, output_dir: str, *_: object, **__: object) -> bool:
        out = Path(output_dir)
        shutil.copytree(self.handler_dir, out, dirs_exist_ok=True, ignore=_IGNORE)
        for package in self.packages:
            _copy_module(package, out)
        return True


# Powertools is pure Python; bundling it (not a public layer ARN) keeps synth offline and lets the
# local AWS run the exact asset. typing_extensions is its one dependency absent from the runtime.
LAMBDA_PACKAGES = ("fraud_core", "aws_lambda_powertools", "typing_extensions")


def lambda_bundling(handler_dir: Path) -> BundlingOptions:
    return BundlingOptions(image=_UNUSED_IMAGE, local=_LambdaBundler(handler_dir, LAMBDA_PACKAGES))


def _add_tree(tar: tarfile.TarFile, source: Path, arcname: str) -> None:
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        info = tar.gettarinfo(str(path), f"{arcname}/{path.relative_to(source).as_posix()}")
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # reproducible bytes
        with path.open("rb") as fh:
            tar.addfile(info, fh)


def build_job_source_tar() -> bytes:
    """sourcedir.tar.gz as SageMaker script mode expects: the packages plus `train.py` at the root.

    The serving entry point is not here: the training job copies the code into model.tar.gz (code/), so a
    registered model package does not depend on this asset (which `cdk gc` may delete once unreferenced).
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for package in ("fraud_core", "sagemaker_jobs"):
            _add_tree(tar, ROOT / package, package)
        # Root entry point, as the framework containers expect it (sagemaker_program).
        shims = {"train.py": b"import sys\n\nfrom sagemaker_jobs.train import main\n\nsys.exit(main())\n"}
        for name, shim in shims.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(shim), 0
            tar.addfile(info, io.BytesIO(shim))
    return buf.getvalue()


@jsii.implements(ILocalBundling)
class _JobSourceBundler:
    def try_bundle(self, output_dir: str, *_: object, **__: object) -> bool:
        (Path(output_dir) / "sourcedir.tar.gz").write_bytes(build_job_source_tar())
        return True


def job_source_bundling() -> BundlingOptions:
    return BundlingOptions(image=_UNUSED_IMAGE, local=_JobSourceBundler(), output_type=BundlingOutput.ARCHIVED)
