"""JUnit XML for CI systems: one test case per compared cell and metric, a failure for each
regression, skipped where no verdict is possible (too few runs, not comparable)."""

import re
from pathlib import Path
from xml.etree import ElementTree as ET

from . import numbers
from .compare import COMPARED, NOT_COMPARABLE, TOO_FEW, WORSE, Change

# Characters XML 1.0 does not allow (an archive's names can hold any).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def write(changes: list[Change], baseline: str, candidate: str, path: Path) -> None:
    suite = ET.Element("testsuite", name=xml_text(f"dataplane-bench {candidate} vs {baseline}"),
                       tests=str(len(changes)),
                       failures=str(sum(c.verdict == WORSE for c in changes)),
                       skipped=str(sum(c.verdict in (TOO_FEW, NOT_COMPARABLE) for c in changes)))
    for c in changes:
        label, unit = COMPARED[c.metric].compared, COMPARED[c.metric].unit
        case = ET.SubElement(suite, "testcase", classname=xml_text(f"{label}.{c.cell[0]}"),
                             name=xml_text(c.cell_id))
        said = xml_text(
                f"{label}: {numbers.num(c.baseline_mean)} → {numbers.num(c.candidate_mean)} "
                f"{unit}, {numbers.pct(c.delta_pct, True)} (95 % CI "
                f"{numbers.interval(c.low_pct, c.high_pct)}), p (BH) "
                f"{numbers.num(c.p_adjusted, 2)}: {c.verdict}")
        if c.verdict == WORSE:
            ET.SubElement(case, "failure", message=said, type="regression").text = said
        elif c.verdict in (TOO_FEW, NOT_COMPARABLE):
            ET.SubElement(case, "skipped", message=xml_text(f"{c.verdict} {c.why}".strip()))
        else:
            ET.SubElement(case, "system-out").text = said
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
