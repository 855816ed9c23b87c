#!/usr/bin/env python3
"""Checks the include direction drawn in docs/architecture.md.

Every project include ("src/...", "channels/...", "campaigns/...") of a file in module M must
name a module that M may include; <httplib.h> only in the simulator; SQLite only in storage; libcurl
only in src/net.
Exit 1 with one line per violation.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# module -> modules it may include (itself is always allowed).
DOMAIN_BASE = {"core", "model"}
ALLOWED = {
    "src/core": set(),
    "src/model": {"core"},
    "src/config": {"core", "model"},
    "src/storage": DOMAIN_BASE,
    "src/server": {"core"},
    # outbound HTTP (libcurl) and the platform API clients built on it (docs/outbound.md).
    "src/net": {"core"},
    "src/platform": DOMAIN_BASE | {"config", "net"},
    "src/ingest": DOMAIN_BASE | {"storage", "config", "profiles", "tagger", "channels/common"},
    # profiles drives the tagger (pure logic: rules, scoring, lifecycle) inside its transaction.
    "src/profiles": DOMAIN_BASE | {"storage", "tagger"},
    "src/tagger": DOMAIN_BASE,
    # the outbox runner: claims stored jobs, calls the platform through the channels/common
    # outbound seam (platform: its outcome classes, and the WeCom client for the backfill's list
    # calls), applies answers to profiles.
    "src/jobs": DOMAIN_BASE | {"config", "storage", "profiles", "platform", "channels/common"},
    "src/inventory": DOMAIN_BASE | {"storage"},
    "src/finance": DOMAIN_BASE | {"storage"},
    "src/orders": DOMAIN_BASE | {"storage", "inventory", "finance", "profiles"},
    "src/api": DOMAIN_BASE | {"config", "storage", "server", "ingest", "profiles", "tagger",
                              "platform",
                              "orders", "inventory", "finance", "channels/common",
                              "channels/wecom", "channels/official_account",
                              "campaigns/segments", "campaigns/render", "campaigns/engine"},
    "src/app": None,  # the composition root may include anything
    # the outbound seam speaks src/platform's outcomes, call options and message types; the
    # clients stay in src/platform, below every channel (docs/architecture.md).
    "channels/common": DOMAIN_BASE | {"channels/wxcrypto", "platform"},
    "channels/wxcrypto": {"core"},
    # the outbound senders of channels/<platform> are built on src/platform's typed clients.
    "channels/wecom": DOMAIN_BASE | {"config", "channels/common", "channels/wxcrypto", "platform"},
    "channels/official_account": DOMAIN_BASE | {"config", "channels/common", "channels/wxcrypto",
                                                "platform"},
    "campaigns/segments": DOMAIN_BASE | {"storage", "profiles", "tagger"},
    "campaigns/render": DOMAIN_BASE,
    # The platform simulator (docs/simulator.md) stands in for WeCom / OA: it speaks the wire
    # protocol itself and must not borrow the service's clients or adapters.
    "sim": {"core", "channels/wxcrypto"},
    # src/jobs: the welcome message is an outbox job whose handler (a jobs::JobHandler) lives
    # here with the channels it serves; platform: the outcome classes of the seam's answers.
    "campaigns/engine": DOMAIN_BASE | {"storage", "profiles", "tagger", "channels/common",
                                       "campaigns/segments", "campaigns/render", "jobs",
                                       "platform"},
}
# cpp-httplib serves the simulator's own HTTP edge only: scrmd's edge is libmicrohttpd (src/server),
# and its handlers see server::Request / server::Response.
HTTPLIB_MODULES = {"sim"}
SQL_MODULES = {"src/storage"}
CURL_MODULES = {"src/net"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def module_of(rel: str):
    parts = rel.split("/")
    if len(parts) >= 2 and parts[0] == "sim":
        return "sim"
    if len(parts) >= 2 and parts[0] in ("src", "channels", "campaigns"):
        return parts[0] + "/" + parts[1]
    return None


def short(module: str) -> str:
    return module[4:] if module.startswith("src/") else module


def main() -> int:
    errors = []
    for top in ("src", "channels", "campaigns", "sim"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in (".h", ".cc", ".hpp", ".cpp"):
                continue
            rel = path.relative_to(ROOT).as_posix()
            mod = module_of(rel)
            if mod not in ALLOWED:
                errors.append(f"{rel}: module '{mod}' is not in the architecture map")
                continue
            allowed = ALLOWED[mod]
            text = path.read_text(encoding="utf-8", errors="replace")
            for m in INCLUDE.finditer(text):
                kind, name = m.group(1), m.group(2)
                line = text.count("\n", 0, m.start()) + 1
                if kind == "<":
                    if name == "httplib.h" and mod not in HTTPLIB_MODULES:
                        errors.append(f"{rel}:{line}: <httplib.h> outside the simulator")
                    if name.startswith("curl/") and mod not in CURL_MODULES:
                        errors.append(f"{rel}:{line}: <curl/...> outside src/net")
                    if (name.startswith("SQLiteCpp/") or name == "sqlite3.h") and \
                            mod not in SQL_MODULES:
                        errors.append(f"{rel}:{line}: SQLite outside src/storage")
                    continue
                target = module_of(name)
                if target is None:
                    errors.append(f"{rel}:{line}: include \"{name}\" must start at the repo root")
                    continue
                if target == mod or allowed is None:
                    continue
                if target == "src/app":
                    errors.append(f"{rel}:{line}: nothing includes src/app")
                elif short(target) not in allowed:
                    errors.append(f"{rel}:{line}: {short(mod)} may not include {short(target)}")
    for e in errors:
        print(e)
    if errors:
        print(f"layering: {len(errors)} violation(s)")
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
