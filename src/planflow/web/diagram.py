"""A process diagram drawn on the server as SVG from the BPMN file's own diagram information (DI),
with completed and current elements marked and a count where a loop ran more than once.

Why our own SVG rather than the bpmn-js viewer: no 186 kB of vendored JavaScript to keep current,
nothing for the CSP to allow, it prints, and the page works without script. The diagrams use a
handful of element kinds, all drawn here."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
LANES = {"lane", "participant"}  # named by role: the page words them (ui.lane.*)


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass
class Shape:
    id: str
    kind: str
    name: str
    x: float
    y: float
    w: float
    h: float
    count: int = 0
    current: bool = False
    label: Box | None = None  # where the diagram places the name (BPMNLabel), if it says


@dataclass
class Edge:
    name: str
    points: list[tuple[float, float]]
    taken: bool
    label: Box | None = None


@dataclass
class Diagram:
    width: float
    height: float
    lanes: list[Shape] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def build(
    source: str,
    done: dict[str, int],
    current: set[str],
    label: Callable[[str, str, str], str] = lambda kind, element_id, name: name,
) -> Diagram:
    """The drawing of a BPMN file; `label(kind, id, name)` words each element for the reader."""
    root = ET.fromstring(source)
    kinds: dict[str, tuple[str, str]] = {}
    flows: dict[str, tuple[str, str]] = {}
    for element in root.iter():
        element_id = element.get("id")
        if element_id is None:
            continue
        kind, name = _local(element.tag), element.get("name") or ""
        kinds[element_id] = (kind, label(kind, element_id, name) if name and kind not in LANES else name)
        if _local(element.tag) == "sequenceFlow":
            flows[element_id] = (element.get("sourceRef") or "", element.get("targetRef") or "")
    diagram = Diagram(0, 0)
    min_x = min_y = float("inf")
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        ref = shape.get("bpmnElement") or ""
        bounds = shape.find("dc:Bounds", NS)
        if bounds is None or ref not in kinds:
            continue
        kind, name = kinds[ref]
        x, y, w, h = (float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
        item = Shape(ref, kind, name, x, y, w, h, label=_label_box(shape))
        item.count, item.current = done.get(ref, 0), ref in current
        (diagram.lanes if kind in LANES else diagram.shapes).append(item)
        min_x, min_y = min(min_x, item.x), min(min_y, item.y)
        diagram.width = max(diagram.width, item.x + item.w)
        diagram.height = max(diagram.height, item.y + item.h)
    for edge in root.iterfind(".//bpmndi:BPMNEdge", NS):
        ref = edge.get("bpmnElement") or ""
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.iterfind("di:waypoint", NS)]
        source, target = flows.get(ref, ("", ""))
        taken = done.get(source, 0) > 0 and (done.get(target, 0) > 0 or target in current)
        diagram.edges.append(Edge(kinds.get(ref, ("", ""))[1], points, taken, _label_box(edge)))
        for x, y in points:
            diagram.width, diagram.height = max(diagram.width, x), max(diagram.height, y)
    labels = [s.label for s in diagram.shapes if s.label] + [e.label for e in diagram.edges if e.label]
    for box in labels:
        min_x, min_y = min(min_x, box.x), min(min_y, box.y)
        diagram.width, diagram.height = max(diagram.width, box.x + box.w), max(diagram.height, box.y + box.h)
    # Shift everything so the drawing starts near the origin.
    dx, dy = (min_x - 10 if min_x != float("inf") else 0), (min_y - 10 if min_y != float("inf") else 0)
    for item in [*diagram.lanes, *diagram.shapes]:
        item.x, item.y = item.x - dx, item.y - dy
    for line in diagram.edges:
        line.points = [(x - dx, y - dy) for x, y in line.points]
    for box in labels:
        box.x, box.y = box.x - dx, box.y - dy
    diagram.width, diagram.height = diagram.width - dx + 10, diagram.height - dy + 10
    return diagram


def _label_box(element: ET.Element) -> Box | None:
    bounds = element.find("bpmndi:BPMNLabel/dc:Bounds", NS)
    if bounds is None:
        return None
    return Box(*(float(bounds.get(k, 0)) for k in ("x", "y", "width", "height")))


def wrap(text: str, width: float, size: float = 11) -> list[str]:
    """Break a label into lines that fit `width` (roughly: 0.55 em per character)."""
    per_line = max(4, int(width / (size * 0.55)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:4]


def is_event(kind: str) -> bool:
    return kind in EVENTS


def is_gateway(kind: str) -> bool:
    return kind in GATEWAYS
