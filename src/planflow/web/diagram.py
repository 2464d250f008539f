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
    kinds, flows = _elements(root, label)
    diagram = Diagram(0, 0)
    for element in root.iterfind(".//bpmndi:BPMNShape", NS):
        shape = _shape(element, kinds, done, current)
        if shape is not None:
            (diagram.lanes if shape.kind in LANES else diagram.shapes).append(shape)
    for element in root.iterfind(".//bpmndi:BPMNEdge", NS):
        diagram.edges.append(_edge(element, kinds, flows, done, current))
    _fit(diagram)
    return diagram


def _elements(
    root: ET.Element, label: Callable[[str, str, str], str]
) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """Every element's kind and worded name by its id, and every sequence flow's source and target."""
    kinds: dict[str, tuple[str, str]] = {}
    flows: dict[str, tuple[str, str]] = {}
    for element in root.iter():
        element_id = element.get("id")
        if element_id is None:
            continue
        kind, name = _local(element.tag), element.get("name") or ""
        kinds[element_id] = (kind, label(kind, element_id, name) if name and kind not in LANES else name)
        if kind == "sequenceFlow":
            flows[element_id] = (element.get("sourceRef") or "", element.get("targetRef") or "")
    return kinds, flows


def _shape(
    element: ET.Element, kinds: dict[str, tuple[str, str]], done: dict[str, int], current: set[str]
) -> Shape | None:
    """A BPMNShape with its place, marked with how often it was done and whether it is under way;
    None when it has no bounds or draws no element of the process."""
    ref = element.get("bpmnElement") or ""
    bounds = element.find("dc:Bounds", NS)
    if bounds is None or ref not in kinds:
        return None
    kind, name = kinds[ref]
    x, y, w, h = (float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
    shape = Shape(ref, kind, name, x, y, w, h, label=_label_box(element))
    shape.count, shape.current = done.get(ref, 0), ref in current
    return shape


def _edge(
    element: ET.Element,
    kinds: dict[str, tuple[str, str]],
    flows: dict[str, tuple[str, str]],
    done: dict[str, int],
    current: set[str],
) -> Edge:
    """A BPMNEdge's line, taken when its source was done and its target was done or is under way."""
    ref = element.get("bpmnElement") or ""
    points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in element.iterfind("di:waypoint", NS)]
    source, target = flows.get(ref, ("", ""))
    taken = done.get(source, 0) > 0 and (done.get(target, 0) > 0 or target in current)
    return Edge(kinds.get(ref, ("", ""))[1], points, taken, _label_box(element))


def _fit(diagram: Diagram) -> None:
    """Shift everything so the drawing starts near the origin, and size it to hold all of it."""
    placed = _placed(diagram)
    points = [point for line in diagram.edges for point in line.points]
    width = max([diagram.width, *(b.x + b.w for b in placed), *(x for x, _ in points)])
    height = max([diagram.height, *(b.y + b.h for b in placed), *(y for _, y in points)])
    dx, dy = (min(b.x for b in placed) - 10, min(b.y for b in placed) - 10) if placed else (0, 0)
    for item in placed:
        item.x, item.y = item.x - dx, item.y - dy
    for line in diagram.edges:
        line.points = [(x - dx, y - dy) for x, y in line.points]
    diagram.width, diagram.height = width - dx + 10, height - dy + 10


def _placed(diagram: Diagram) -> list[Shape | Box]:
    """What has a place of its own: lanes, shapes, and the labels of shapes and edges."""
    labels = [s.label for s in diagram.shapes if s.label] + [e.label for e in diagram.edges if e.label]
    return [*diagram.lanes, *diagram.shapes, *labels]


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
