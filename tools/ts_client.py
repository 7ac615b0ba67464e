"""The TypeScript client's types, generated from the OpenAPI document.

`python -m tools.ts_client` (or `make client`) writes the app's OpenAPI document, installs the
client's pinned npm devDependencies once into var/npm/ts-client (gitignored), runs
`openapi-typescript` to rewrite clients/typescript/src/schema.d.ts and type-checks the client
and its example with `tsc --noEmit`. tests/contract/test_ts_client.py fails when the committed
types differ from what this writes.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.openapi import openapi_document

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENT_DIR = REPO_ROOT / "clients" / "typescript"
SCHEMA_FILE = CLIENT_DIR / "src" / "schema.d.ts"
NPM_DIR = REPO_ROOT / "var" / "npm" / "ts-client"
NPM_MANIFESTS = ("package.json", "package-lock.json")
INSTALL_TIMEOUT = 300
TOOL_TIMEOUT = 120


class ToolError(RuntimeError):
    """An npm tool failed; the message carries its output."""



def installed_tools() -> Path:
    """The client's package.json and lock installed with `npm ci` into NPM_DIR, once: again only
    when either manifest changes. Returns NPM_DIR (its node_modules holds the tools)."""
    if shutil.which("npm") is None:
        raise ToolError("npm is not installed: Node.js 20 and npm are needed for the TypeScript client")
    manifests = {name: (CLIENT_DIR / name).read_text() for name in NPM_MANIFESTS}
    stamp = NPM_DIR / "installed.json"
    wanted = json.dumps(manifests, sort_keys=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        stamp.unlink(missing_ok=True)
        for name, text in manifests.items():
            (NPM_DIR / name).write_text(text)
        run(["npm", "ci", "--no-audit", "--no-fund"], NPM_DIR, INSTALL_TIMEOUT)
        stamp.write_text(wanted)
    return NPM_DIR


def run(command: list[str], cwd: Path, timeout: float = TOOL_TIMEOUT) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ToolError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def generated_schema(npm_dir: Path) -> str:
    """What openapi-typescript writes for the app's OpenAPI document now."""
    document = npm_dir / "openapi.json"
    document.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n")
    output = npm_dir / "schema.d.ts"
    run([str(npm_dir / "node_modules" / ".bin" / "openapi-typescript"), str(document),
         "--output", str(output)], npm_dir)
    return output.read_text()


def typecheck_config(npm_dir: Path, out_dir: Path | None = None) -> Path:
    """A tsconfig beside the installed packages that extends the client's own, so `tsc` checks
    the committed sources (src/, examples/) and finds openapi-fetch in NPM_DIR. With
    `out_dir`, it emits JavaScript there (the Node test runs the compiled example)."""
    options: dict[str, Any] = {
        "paths": {"openapi-fetch": ["./node_modules/openapi-fetch/dist/index.d.mts"]},
    }
    if out_dir is None:
        options["noEmit"] = True
    else:
        options.update(noEmit=False, outDir=str(out_dir), rootDir=str(CLIENT_DIR))
    name = "tsconfig.check.json" if out_dir is None else "tsconfig.build.json"
    config = npm_dir / name
    config.write_text(json.dumps(
        {"extends": str(CLIENT_DIR / "tsconfig.json"), "compilerOptions": options}, indent=2))
    return config


def typecheck(npm_dir: Path, out_dir: Path | None = None) -> None:
    run([str(npm_dir / "node_modules" / ".bin" / "tsc"), "--project",
         str(typecheck_config(npm_dir, out_dir))], npm_dir)


def main() -> int:
    try:
        npm_dir = installed_tools()
        SCHEMA_FILE.write_text(generated_schema(npm_dir))
        typecheck(npm_dir)
    except ToolError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {SCHEMA_FILE.relative_to(REPO_ROOT)}; tsc --noEmit passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
