"""The gate's verdicts for CI systems: a JSON document, JUnit XML and SARIF 2.1.0."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from agentlog.gate.judge import Verdict
from agentlog.textsafe import safe_text

# What XML 1.0 cannot hold at all, even escaped, once safe_text has shown the controls.
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_json(verdicts: list[Verdict], rules: list[str]) -> dict[str, Any]:
    broken = sum(len(v.broken) for v in verdicts)
    return {
        "ok": broken == 0,
        "rules": rules,
        "broken": broken,
        "pairs": [v.to_dict() for v in verdicts],
    }


def _xml(text: str) -> str:
    """Recorded text as XML 1.0 can carry it: an ESC or NUL in a title made the file unparsable."""
    return _NOT_XML.sub("\ufffd", safe_text(text))


def to_junit(verdicts: list[Verdict], rules: list[str]) -> bytes:
    """One testsuite per pair, one testcase per rule (a broken rule is a failure)."""
    suites = ET.Element("testsuites", name="agentlog compare")
    total = failures = 0
    for verdict in verdicts:
        cases = [(r, None) for r in verdict.passed] + list(verdict.broken)
        title = _xml(verdict.title)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=title or "(untitled)",
            tests=str(len(cases)),
            failures=str(len(verdict.broken)),
        )
        for rule, why in cases:
            case = ET.SubElement(
                suite, "testcase", classname=f"agentlog.gate.{title}", name=_xml(rule)
            )
            if why is not None:
                failure = ET.SubElement(case, "failure", message=_xml(why), type=_xml(rule))
                failure.text = _pair_text(verdict)
        total += len(cases)
        failures += len(verdict.broken)
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def to_sarif(verdicts: list[Verdict], rules: list[str]) -> dict[str, Any]:
    """SARIF 2.1.0: a result per broken rule, located at the run's session."""
    rule_ids = sorted({r for v in verdicts for r, _ in v.broken} | set(rules))
    results = []
    for verdict in verdicts:
        for rule, why in verdict.broken:
            target = verdict.run or verdict.baseline
            results.append(
                {
                    "ruleId": rule,
                    "level": "error",
                    "message": {"text": f"{verdict.title}: {why}"},
                    "locations": [
                        {
                            "logicalLocations": [
                                {
                                    "name": target.id if target else "",
                                    "fullyQualifiedName": f"session/{target.id if target else ''}",
                                    "kind": "module",
                                }
                            ]
                        }
                    ],
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "agentlog compare",
                        "rules": [{"id": r, "shortDescription": {"text": r}} for r in rule_ids],
                    }
                },
                "results": results,
            }
        ],
    }


def _pair_text(verdict: Verdict) -> str:
    base = verdict.baseline.id if verdict.baseline else "-"
    run = verdict.run.id if verdict.run else "-"
    return f"baseline {base}\nrun {run}"
