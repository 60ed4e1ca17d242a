"""Subprocess entry of the offline planner: `python -m shared.plan.runner REQUEST.json RESULT.json`.

One layer per process, because the Pulumi runtime keeps global state (settings, root stack, config) that must
start clean. The request names the layer, suffix, config and the upstream layers' exports; the result lists
every resource (type, name, inputs, provider), every data-source call and the exports.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _digest(value: Any) -> str | None:
    """sha256 of a Pulumi asset's or asset archive's content (None for anything else): the same code plans the same
    on every run and every machine, where repr() would give an object address."""
    import pulumi

    if isinstance(value, pulumi.FileAsset):
        return hashlib.sha256(Path(value.path).read_bytes()).hexdigest()
    if isinstance(value, pulumi.StringAsset):
        return hashlib.sha256(value.text.encode()).hexdigest()
    if isinstance(value, pulumi.AssetArchive):
        parts = {name: _digest(asset) or repr(asset) for name, asset in sorted(value.assets.items())}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return None


def _encode(value: Any) -> Any:
    """JSON-safe copy of resource inputs; secrets become {"$secret": value} so callers can mask or check them;
    assets and archives {"$asset"/"$archive": "sha256:<content>"}."""
    digest = _digest(value)
    if digest is not None:
        import pulumi

        return {"$archive" if isinstance(value, pulumi.AssetArchive) else "$asset": f"sha256:{digest}"}
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return {"$secret": _encode(value.get("value"))}
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _record_options(options: dict[tuple[str, str], dict[str, Any]]) -> Any:
    """A stack transformation that records the resource options the engine would see (they are not inputs).

    The mock monitor hands `Mocks.new_resource` the inputs only, and resource transforms run engine-side with
    the options the RPC carries; the SDK's in-process stack transformation (deprecated, still public) is the
    one hook that sees a resource's full `ResourceOptions` under mocks, so the planner alone keeps using it.
    """
    import pulumi

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts or pulumi.ResourceOptions()
        depends = opts.depends_on if isinstance(opts.depends_on, (list, tuple)) else [opts.depends_on]
        options[(args.type_, args.name)] = {
            "retainOnDelete": bool(opts.retain_on_delete),
            "protect": bool(opts.protect),
            "deleteBeforeReplace": bool(opts.delete_before_replace),
            "ignoreChanges": list(opts.ignore_changes or []),
            "dependsOn": [getattr(d, "_name", repr(d)) for d in depends if d is not None],
            "parent": getattr(opts.parent, "_name", None),
        }
        return None

    return record


def run(request: dict[str, Any]) -> dict[str, Any]:
    layer, suffix, program = request["layer"], request["suffix"], Path(request["program"])
    os.environ["PULUMI_CONFIG"] = json.dumps(request.get("config", {}))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(request.get("secretKeys", []))

    import pulumi
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func

    from shared.plan.mocks import PlanMocks
    from shared.runtime import contracts
    from shared.runtime.errors import CatalogError

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = PlanMocks(request.get("upstream", {}))
    pulumi.runtime.set_mocks(mocks, project=f"catalog-{layer}", stack=suffix, preview=False,
                             organization=request.get("org", "organization"))
    root = settings.get_root_resource()
    options: dict[tuple[str, str], dict[str, Any]] = {}
    pulumi.runtime.register_stack_transformation(_record_options(options))
    error: dict[str, str] | None = None

    async def program_run() -> None:
        await run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__"))

    try:
        sys.path.insert(0, str(program.parent))
        loop.run_until_complete(program_run())
    except CatalogError as exc:
        error = {"kind": type(exc).__name__, "message": str(exc)}
    except Exception as exc:  # report any failure of the program as data, with its traceback
        cause = exc
        while cause.__cause__ is not None and not isinstance(cause, CatalogError):
            cause = cause.__cause__
        kind = type(cause).__name__ if isinstance(cause, CatalogError) else type(exc).__name__
        error = {"kind": kind, "message": str(cause if isinstance(cause, CatalogError) else exc),
                 "traceback": traceback.format_exc()}

    exports: dict[str, Any] = {}
    secret_exports: list[str] = []
    if error is None:
        outputs = getattr(root, "outputs", {}) or {}

        async def resolve() -> None:
            for name, out in outputs.items():
                value = await pulumi.Output.from_input(out).future()
                exports[name] = _encode(value)
                if await pulumi.Output.from_input(out).is_secret():
                    secret_exports.append(name)

        loop.run_until_complete(resolve())
    return {
        "layer": layer,
        "suffix": suffix,
        "error": error,
        "resources": [{**r, "inputs": _encode(r["inputs"]), "options": options.get((r["type"], r["name"]), {})}
                      for r in mocks.resources],
        "invokes": [{**i, "args": _encode(i["args"])} for i in mocks.invokes],
        "exports": exports,
        "secretExports": sorted(secret_exports),
        "reads": [list(r) for r in contracts.READS],
    }


def main() -> int:
    request = json.loads(Path(sys.argv[1]).read_text())
    result = run(request)
    Path(sys.argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
