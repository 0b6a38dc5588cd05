"""Deploy a synthesized CDK cloud assembly into the local AWS, the way `cdk deploy` does on AWS.

Steps, per stack in dependency order: bootstrap (the SSM version parameter and the asset bucket that
`cdk bootstrap` would create), publish file assets, then CloudFormation `create_stack` with the
synthesized template. Resource types that cannot run locally are removed first and listed in the
report with the reason; any *other* type moto cannot create fails the deploy instead of being
skipped silently.
"""

from __future__ import annotations

import copy
import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws.cloudformation.models import (
    NOT_EMULATED,
    adapt_for_moto_bugs,
    apply_deferred_settings,
    unsupported_types,
)
from local_aws.runtime import LocalAws

BOOTSTRAP_QUALIFIER = "hnb659fds"  # CDK's default qualifier
BOOTSTRAP_VERSION = "30"


class DeployError(RuntimeError):
    pass


@dataclass
class StackDeployment:
    artifact_id: str
    stack_name: str
    status: str
    resources: list[dict[str, str]]
    not_emulated: list[dict[str, str]]
    outputs: dict[str, str]
    seconds: float
    assets_published: int = 0


@dataclass
class CloudAssembly:
    directory: Path
    manifest: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        path = self.directory / "manifest.json"
        if not path.exists():
            raise DeployError(f"{path} not found: synthesize first (make synth)")
        self.manifest = json.loads(path.read_text())

    def stacks_in_order(self) -> list[tuple[str, dict[str, Any]]]:
        artifacts = self.manifest["artifacts"]
        stacks = {k: v for k, v in artifacts.items() if v["type"] == "aws:cloudformation:stack"}
        ordered: list[str] = []

        def visit(name: str, trail: tuple[str, ...] = ()) -> None:
            if name in ordered or name not in stacks:
                return
            if name in trail:
                raise DeployError(f"dependency cycle between stacks: {' -> '.join((*trail, name))}")
            for dep in stacks[name].get("dependencies", []):
                visit(dep, (*trail, name))
            ordered.append(name)

        for name in stacks:
            visit(name)
        return [(n, stacks[n]) for n in ordered]

    def asset_manifests(self, artifact: dict[str, Any]) -> list[dict[str, Any]]:
        artifacts = self.manifest["artifacts"]
        out = []
        for dep in artifact.get("dependencies", []):
            if artifacts.get(dep, {}).get("type") == "cdk:asset-manifest":
                out.append(json.loads((self.directory / artifacts[dep]["properties"]["file"]).read_text()))
        return out


def _substitute(text: str, aws: LocalAws) -> str:
    return (text.replace("${AWS::AccountId}", aws.account_id).replace("${AWS::Region}", aws.region)
            .replace("${AWS::Partition}", "aws"))


def bootstrap(aws: LocalAws) -> str:
    """What `cdk bootstrap` leaves behind that a deploy reads: the version parameter and asset bucket."""
    ssm = aws.client("ssm")
    ssm.put_parameter(Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value=BOOTSTRAP_VERSION,
                      Type="String", Overwrite=True)
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{aws.account_id}-{aws.region}"
    s3 = aws.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    return bucket


def _zip_directory(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(path).as_posix())
    return buf.getvalue()


def publish_assets(aws: LocalAws, assembly: CloudAssembly, asset_manifest: dict[str, Any]) -> int:
    s3 = aws.client("s3")
    count = 0
    for asset_id, asset in asset_manifest.get("files", {}).items():
        source = assembly.directory / asset["source"]["path"]
        if not source.exists():
            raise DeployError(f"asset {asset_id} missing at {source}: synthesize again")
        body = _zip_directory(source) if source.is_dir() else source.read_bytes()
        for dest in asset["destinations"].values():
            s3.put_object(Bucket=_substitute(dest["bucketName"], aws), Key=dest["objectKey"], Body=body)
        count += 1
    if asset_manifest.get("dockerImages"):
        raise DeployError("Docker image assets cannot be built offline; bundle code as file assets instead")
    return count


def prepare_template(template: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Drop resources that cannot run locally; fail on any type moto would silently skip."""
    template = copy.deepcopy(template)
    resources = template.get("Resources", {})
    removed: list[dict[str, str]] = []
    for logical_id, res in list(resources.items()):
        if res["Type"] in NOT_EMULATED:
            removed.append({"LogicalResourceId": logical_id, "ResourceType": res["Type"],
                            "Reason": NOT_EMULATED[res["Type"]]})
            del resources[logical_id]
        elif res["Type"].startswith("Custom::"):
            raise DeployError(f"{logical_id}: custom resource {res['Type']} has no local emulation; "
                              "add it to NOT_EMULATED with a reason, or emulate it in local_aws")
    gone = {r["LogicalResourceId"] for r in removed}
    for logical_id, res in resources.items():
        deps = res.get("DependsOn")
        if isinstance(deps, str):
            deps = [deps]
        if deps:
            res["DependsOn"] = [d for d in deps if d not in gone]
        refs = _references(res) & gone
        if refs:
            raise DeployError(f"{logical_id} references {sorted(refs)}, which cannot run locally")
    adapt_for_moto_bugs(template)
    skipped = unsupported_types({r["Type"] for r in resources.values()})
    if skipped:
        raise DeployError(f"moto's CloudFormation cannot create {sorted(skipped)}; register a model in "
                          "local_aws/cloudformation/models.py or list the type in NOT_EMULATED")
    return template, removed


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def deploy_stack(aws: LocalAws, assembly: CloudAssembly, artifact_id: str, artifact: dict[str, Any],
                 ) -> StackDeployment:
    started = time.perf_counter()
    props = artifact["properties"]
    stack_name = props.get("stackName", artifact_id)
    published = sum(publish_assets(aws, assembly, m) for m in assembly.asset_manifests(artifact))
    template = json.loads((assembly.directory / props["templateFile"]).read_text())
    template, removed = prepare_template(template)
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        Tags=[{"Key": k, "Value": v} for k, v in props.get("tags", {}).items()],
    )
    stack = _wait_for_stack(cfn, stack_name)
    apply_deferred_settings()
    resources = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    missing = set(template["Resources"]) - {r["LogicalResourceId"] for r in resources}
    if missing:
        raise DeployError(f"{stack_name}: moto reported CREATE_COMPLETE without creating {sorted(missing)}")
    return StackDeployment(
        artifact_id=artifact_id,
        stack_name=stack_name,
        status=stack["StackStatus"],
        resources=[{k: r[k] for k in ("LogicalResourceId", "ResourceType", "PhysicalResourceId")}
                   for r in resources],
        not_emulated=removed,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        seconds=time.perf_counter() - started,
        assets_published=published,
    )


def _wait_for_stack(cfn: Any, stack_name: str, attempts: int = 200) -> dict[str, Any]:
    for _ in range(attempts):
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
            return stack
        if status.endswith("FAILED") or "ROLLBACK" in status:
            events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                       if "FAILED" in e["ResourceStatus"]]
            raise DeployError(f"{stack_name} ended {status}: {reasons}")
        time.sleep(0.05)  # moto creates synchronously; this only guards a future async moto
    raise DeployError(f"{stack_name} did not finish creating")


def deploy_assembly(aws: LocalAws, assembly_dir: Path, on_stack: Any = None) -> list[StackDeployment]:
    assembly = CloudAssembly(assembly_dir)
    bootstrap(aws)
    results = []
    for artifact_id, artifact in assembly.stacks_in_order():
        result = deploy_stack(aws, assembly, artifact_id, artifact)
        results.append(result)
        if on_stack:
            on_stack(result)
    return results
