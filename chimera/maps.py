"""Map graphs for the match simulator: named places, walkable edges, sightlines.

Why a graph of named places
---------------------------
A real CS2 demo does not tell us "which room" a player is in by geometry we could
reproduce cheaply; it tells us directly: every player pawn carries
``m_szLastPlaceName``, the name of the nav-mesh *place* the engine put them in
("TSpawn", "BombsiteA", "TopofMid", "PalaceInterior", ...).  Anything downstream that
reads demos works in those names, so the simulator speaks the same vocabulary: each
tick row carries a place name exactly as a demo would, and a broadcast-style HUD
shows the human callout ("T Spawn", "A Site", "Top Mid", ...).

Modelling a map as a small graph of those places (20-35 nodes) makes the things a
simulator needs cheap and fully deterministic:

* movement and routes are shortest paths along walkable edges (Dijkstra, cached
  all-pairs), with edge lengths taken from the places' coordinates;
* rotations fall out of the same distances (CT spawn is nearer both sites than T
  spawn is, as on the real maps);
* line of sight is a lookup in a symmetric set of place pairs (before smokes).

The topology follows the routes players really take (the place-to-place transitions
seen in CS2 demos: Mirage A via PalaceAlley/TRamp/PalaceInterior, B via House/
BackAlley/Apartments, Inferno B via Banana, Nuke B via Vending/Trophy/Control/Ramp or
Secret/Tunnels, ...).

Coordinates are approximate: a rough centre of each place in Hammer units, in the
map's real coordinate frame (the frame of its radar overview), good enough for
walking distances and plausibility checks, not for pixel-exact plotting.  Nuke is
two-level: the B site lies about 350 units below the A site.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

__all__ = ["MAPS", "MapGraph", "Place", "get_map"]


@dataclass(frozen=True)
class Place:
    """One named nav place of a map."""

    name: str  # engine place name as in m_szLastPlaceName, e.g. "BombsiteA"
    callout: str  # human callout as a broadcast shows it, e.g. "A Site"
    x: float
    y: float
    z: float  # approximate centre in Hammer units, in the map's real coordinate frame
    site: str | None = None  # "A"/"B" when inside that bombsite's plant zone, else None

    @property
    def pos(self) -> tuple[float, float, float]:
        return (self.x, self.y, self.z)


# eq=False: a graph is compared (and hashed) by identity; its Mapping fields are not
# hashable, and the module-level maps are singletons anyway.
@dataclass(frozen=True, eq=False)
class MapGraph:
    """A map as a graph of named places with walkable edges and sightlines."""

    name: str  # "de_mirage"
    places: Mapping[str, Place]  # by engine name
    edges: tuple[tuple[str, str], ...]  # undirected walkable adjacency
    sight: tuple[tuple[str, str], ...]  # undirected pairs of different places that see each other
    t_spawn: str
    ct_spawn: str
    bombsites: Mapping[str, str]  # "A" -> engine name of the planting place, same for "B"

    def __post_init__(self) -> None:
        for key, place in self.places.items():
            if key != place.name:
                raise ValueError(f"{self.name}: place keyed {key!r} is named {place.name!r}")
            if not place.name or " " in place.name:
                raise ValueError(f"{self.name}: bad engine place name {place.name!r}")
            if place.site not in (None, "A", "B"):
                raise ValueError(f"{self.name}: {place.name} has bad site {place.site!r}")
        for kind, pairs in (("edge", self.edges), ("sight", self.sight)):
            seen: set[frozenset[str]] = set()
            for a, b in pairs:
                if a not in self.places or b not in self.places:
                    raise ValueError(f"{self.name}: {kind} {a}-{b} names an unknown place")
                if a == b:
                    raise ValueError(f"{self.name}: {kind} {a}-{b} joins a place to itself")
                key = frozenset((a, b))
                if key in seen:
                    raise ValueError(f"{self.name}: duplicate {kind} {a}-{b}")
                seen.add(key)
        for spawn in (self.t_spawn, self.ct_spawn):
            if spawn not in self.places:
                raise ValueError(f"{self.name}: unknown spawn place {spawn!r}")
        if set(self.bombsites) != {"A", "B"}:
            raise ValueError(f"{self.name}: bombsites must name exactly A and B")
        for letter, place in self.bombsites.items():
            if place not in self.places or self.places[place].site != letter:
                raise ValueError(f"{self.name}: bombsite {letter} place {place!r} is not in site {letter}")
        unreachable = set(self.places) - set(self._apsp[0][self.t_spawn])
        if unreachable:
            raise ValueError(f"{self.name}: graph not connected, unreachable: {sorted(unreachable)}")

    # -- cached structure -------------------------------------------------------------

    @cached_property
    def _adjacency(self) -> Mapping[str, tuple[str, ...]]:
        adj: dict[str, set[str]] = {p: set() for p in self.places}
        for a, b in self.edges:
            adj[a].add(b)
            adj[b].add(a)
        return MappingProxyType({p: tuple(sorted(n)) for p, n in adj.items()})

    @cached_property
    def _sight_pairs(self) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(pair) for pair in self.sight)

    def edge_length(self, a: str, b: str) -> float:
        """Euclidean length (x, y, z) between the centres of two places."""
        return math.dist(self.places[a].pos, self.places[b].pos)

    @cached_property
    def _apsp(self) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
        """All-pairs shortest paths: (distance[src][dst], predecessor[src][dst])."""
        dist_all: dict[str, dict[str, float]] = {}
        prev_all: dict[str, dict[str, str]] = {}
        for src in self.places:
            dist: dict[str, float] = {src: 0.0}
            prev: dict[str, str] = {}
            heap: list[tuple[float, str]] = [(0.0, src)]
            done: set[str] = set()
            while heap:
                d, node = heapq.heappop(heap)
                if node in done:
                    continue
                done.add(node)
                for nxt in self._adjacency[node]:
                    nd = d + self.edge_length(node, nxt)
                    if nd < dist.get(nxt, math.inf):
                        dist[nxt] = nd
                        prev[nxt] = node
                        heapq.heappush(heap, (nd, nxt))
            dist_all[src] = dist
            prev_all[src] = prev
        return dist_all, prev_all

    def _check(self, place: str) -> None:
        if place not in self.places:
            raise KeyError(f"{self.name} has no place {place!r}")

    # -- public API ----------------------------------------------------------------------

    def neighbors(self, place: str) -> tuple[str, ...]:
        """Places one walkable edge away (sorted by name)."""
        self._check(place)
        return self._adjacency[place]

    def distance(self, a: str, b: str) -> float:
        """Shortest walking distance along edges (Euclidean edge lengths in x, y, z)."""
        self._check(a)
        self._check(b)
        return self._apsp[0][a].get(b, math.inf)

    def path(self, a: str, b: str) -> tuple[str, ...]:
        """Shortest walking path from a to b, inclusive of both ends."""
        self._check(a)
        self._check(b)
        prev = self._apsp[1][a]
        if a != b and b not in prev:
            return ()
        out = [b]
        while out[-1] != a:
            out.append(prev[out[-1]])
        return tuple(reversed(out))

    def can_see(self, a: str, b: str) -> bool:
        """True if a == b or the two places have a clear line of sight (before smokes)."""
        self._check(a)
        self._check(b)
        return a == b or frozenset((a, b)) in self._sight_pairs

    def callout(self, place: str) -> str:
        """Human callout of a place as a broadcast HUD shows it."""
        self._check(place)
        return self.places[place].callout


# ---------------------------------------------------------------------------------------
# data

_Row = tuple[str, str, float, float, float, str | None]


def _build(
    name: str,
    rows: list[_Row],
    edges: list[tuple[str, str]],
    sight: list[tuple[str, str]],
    t_spawn: str = "TSpawn",
    ct_spawn: str = "CTSpawn",
    bombsites: Mapping[str, str] | None = None,
) -> MapGraph:
    places = {r[0]: Place(r[0], r[1], float(r[2]), float(r[3]), float(r[4]), r[5]) for r in rows}
    if len(places) != len(rows):
        raise ValueError(f"{name}: duplicate place rows")
    return MapGraph(
        name=name,
        places=MappingProxyType(places),
        edges=tuple(edges),
        sight=tuple(sight),
        t_spawn=t_spawn,
        ct_spawn=ct_spawn,
        bombsites=MappingProxyType(dict(bombsites or {"A": "BombsiteA", "B": "BombsiteB"})),
    )


# de_mirage: radar overview pos_x -3230, pos_y 1713, scale 5.  T spawn east, CT spawn
# south-west; A in the south, B in the north-west, mid running east-west between them.
_MIRAGE = _build(
    "de_mirage",
    [
        ("TSpawn", "T Spawn", 1200, -50, -165, None),
        ("SideAlley", "Side Alley", 850, 100, -165, None),
        ("PalaceAlley", "Palace Alley", 1000, -900, -200, None),
        ("TRamp", "A Ramp", 550, -1500, -230, None),
        ("PalaceInterior", "Palace", 250, -2250, -40, None),
        ("Scaffolding", "Scaffolding", -150, -2150, -90, None),
        ("BombsiteA", "A Site", -400, -2050, -170, "A"),
        ("Stairs", "Stairs", -50, -1550, -120, None),
        ("Jungle", "Jungle", -1000, -1450, -100, None),
        ("Connector", "Connector", -650, -1050, -100, None),
        ("CTSpawn", "CT Spawn", -1700, -1950, -260, None),
        ("SnipersNest", "Window", -1250, -850, -70, None),
        ("Ladder", "Ladder Room", -800, -700, -230, None),
        ("TopofMid", "Top Mid", 400, -450, -165, None),
        ("Middle", "Mid", -250, -550, -165, None),
        ("Underpass", "Underpass", -700, -150, -370, None),
        ("Catwalk", "Short", -1100, -50, -130, None),
        ("House", "House", 500, 450, -100, None),
        ("BackAlley", "Back Alley", 0, 700, -120, None),
        ("Apartments", "Apartments", -800, 700, -50, None),
        ("Truck", "Van", -1650, 150, -160, None),
        ("BombsiteB", "B Site", -1950, 400, -160, "B"),
        ("Shop", "Market", -2200, -500, -160, None),
    ],
    [
        ("TSpawn", "SideAlley"),
        ("TSpawn", "PalaceAlley"),
        ("PalaceAlley", "TRamp"),
        ("PalaceAlley", "PalaceInterior"),
        ("TRamp", "PalaceInterior"),
        ("TRamp", "Scaffolding"),
        ("TRamp", "BombsiteA"),
        ("PalaceInterior", "Scaffolding"),
        ("PalaceInterior", "BombsiteA"),
        ("Scaffolding", "BombsiteA"),
        ("Stairs", "BombsiteA"),
        ("Stairs", "Connector"),
        ("Connector", "BombsiteA"),
        ("Connector", "Jungle"),
        ("Connector", "Middle"),
        ("Jungle", "BombsiteA"),
        ("Jungle", "CTSpawn"),
        ("CTSpawn", "BombsiteA"),
        ("CTSpawn", "SnipersNest"),
        ("CTSpawn", "Shop"),
        ("SnipersNest", "Ladder"),
        ("Ladder", "Middle"),
        ("SideAlley", "TopofMid"),
        ("SideAlley", "House"),
        ("TopofMid", "Middle"),
        ("TopofMid", "Catwalk"),
        ("Middle", "Catwalk"),
        ("Middle", "Underpass"),
        ("Underpass", "Catwalk"),
        ("Underpass", "BackAlley"),
        ("House", "BackAlley"),
        ("BackAlley", "Apartments"),
        ("Apartments", "BombsiteB"),
        ("Apartments", "Truck"),
        ("Truck", "BombsiteB"),
        ("Catwalk", "BombsiteB"),
        ("Shop", "BombsiteB"),
    ],
    [
        ("TSpawn", "SideAlley"),
        ("TSpawn", "PalaceAlley"),
        ("PalaceAlley", "TRamp"),
        ("TRamp", "Scaffolding"),
        ("TRamp", "BombsiteA"),
        ("TRamp", "Stairs"),
        ("PalaceInterior", "BombsiteA"),
        ("PalaceInterior", "Scaffolding"),
        ("Scaffolding", "BombsiteA"),
        ("Stairs", "BombsiteA"),
        ("Jungle", "BombsiteA"),
        ("Jungle", "Connector"),
        ("Jungle", "CTSpawn"),
        ("CTSpawn", "BombsiteA"),
        ("Connector", "BombsiteA"),
        ("Connector", "Middle"),
        # the long mid sightlines: Window down mid to Top Mid
        ("SnipersNest", "Middle"),
        ("SnipersNest", "TopofMid"),
        ("SnipersNest", "Catwalk"),
        ("SnipersNest", "Ladder"),
        ("TopofMid", "Middle"),
        ("TopofMid", "SideAlley"),
        ("TopofMid", "Catwalk"),
        ("Middle", "Catwalk"),
        ("Middle", "Ladder"),
        ("Middle", "Underpass"),
        ("House", "BackAlley"),
        ("SideAlley", "House"),
        ("Apartments", "BombsiteB"),
        ("Apartments", "Truck"),
        ("Truck", "BombsiteB"),
        ("Catwalk", "BombsiteB"),
        ("Catwalk", "Truck"),
        ("Shop", "BombsiteB"),
    ],
)


# de_inferno: radar overview pos_x -2087, pos_y 3870, scale 4.9.  T spawn west, A site
# east, B site north up Banana, CT spawn north-east between the two sites.
_INFERNO = _build(
    "de_inferno",
    [
        ("TSpawn", "T Spawn", -1600, 300, 60, None),
        ("LowerMid", "Lower Mid", -1000, 400, 60, None),
        ("TRamp", "T Ramp", -450, 650, 90, None),
        ("Middle", "Mid", 200, 550, 100, None),
        ("SecondMid", "Second Mid", -250, 150, 60, None),
        ("Underpass", "Underpass", 0, 300, -20, None),
        ("Upstairs", "Upstairs", -900, 0, 170, None),
        ("Bridge", "Bridge", -400, -100, 150, None),
        ("BackAlley", "Alley", 200, -150, 80, None),
        ("Apartments", "Apartments", 700, -150, 200, None),
        ("Balcony", "Balcony", 1500, 250, 230, None),
        ("TopofMid", "Top Mid", 1000, 500, 130, None),
        ("Quad", "Short", 1500, 650, 160, None),
        ("Arch", "Arch", 1700, 1250, 150, None),
        ("Library", "Library", 2450, 1000, 160, None),
        ("BombsiteA", "A Site", 2050, 500, 160, "A"),
        ("Pit", "Pit", 2200, -150, 90, None),
        ("Graveyard", "Graveyard", 2400, 250, 150, None),
        ("CTSpawn", "CT Spawn", 2350, 2050, 130, None),
        ("Kitchen", "Kitchen", 1750, 2200, 140, None),
        ("Ruins", "Ruins", 1150, 2650, 150, None),
        ("Deck", "Deck", 850, 3050, 190, None),
        ("Banana", "Banana", 250, 1600, 150, None),
        ("BombsiteB", "B Site", 350, 2800, 160, "B"),
    ],
    [
        ("TSpawn", "LowerMid"),
        ("LowerMid", "TRamp"),
        ("LowerMid", "SecondMid"),
        ("LowerMid", "Upstairs"),
        ("TRamp", "Middle"),
        ("TRamp", "Banana"),
        ("SecondMid", "Middle"),
        ("SecondMid", "Underpass"),
        ("SecondMid", "BackAlley"),
        ("Underpass", "Middle"),
        ("Upstairs", "Bridge"),
        ("Bridge", "SecondMid"),
        ("Bridge", "Apartments"),
        ("BackAlley", "Apartments"),
        ("Apartments", "Balcony"),
        ("Apartments", "TopofMid"),
        ("Balcony", "BombsiteA"),
        ("Balcony", "Pit"),
        ("Middle", "TopofMid"),
        ("Middle", "Banana"),
        ("TopofMid", "BombsiteA"),
        ("TopofMid", "Quad"),
        ("TopofMid", "Arch"),
        ("Quad", "BombsiteA"),
        ("Arch", "BombsiteA"),
        ("Arch", "CTSpawn"),
        ("Arch", "Kitchen"),
        ("Library", "BombsiteA"),
        ("Library", "CTSpawn"),
        ("Pit", "BombsiteA"),
        ("Pit", "Graveyard"),
        ("Graveyard", "BombsiteA"),
        ("CTSpawn", "Kitchen"),
        ("CTSpawn", "Ruins"),
        ("Kitchen", "Ruins"),
        ("Ruins", "BombsiteB"),
        ("Ruins", "Deck"),
        ("Deck", "BombsiteB"),
        ("Banana", "BombsiteB"),
    ],
    [
        ("TSpawn", "LowerMid"),
        ("LowerMid", "TRamp"),
        ("LowerMid", "SecondMid"),
        ("TRamp", "Middle"),
        ("SecondMid", "Middle"),
        ("SecondMid", "Underpass"),
        ("SecondMid", "BackAlley"),
        ("SecondMid", "Bridge"),
        ("Underpass", "Middle"),
        ("Upstairs", "Bridge"),
        ("BackAlley", "Apartments"),
        ("Apartments", "Balcony"),
        ("Apartments", "TopofMid"),
        # mid is one long corridor: Middle sees all the way to Top Mid and Arch
        ("Middle", "TopofMid"),
        ("Middle", "Arch"),
        ("TopofMid", "Arch"),
        ("TopofMid", "Quad"),
        ("Middle", "Banana"),
        # Banana looks straight onto B
        ("Banana", "BombsiteB"),
        ("BombsiteB", "Ruins"),
        ("BombsiteB", "Deck"),
        ("Ruins", "Deck"),
        ("Ruins", "Kitchen"),
        ("CTSpawn", "Kitchen"),
        ("CTSpawn", "Arch"),
        ("Arch", "Kitchen"),
        ("Arch", "BombsiteA"),
        ("Quad", "BombsiteA"),
        ("Library", "BombsiteA"),
        ("Balcony", "BombsiteA"),
        ("Balcony", "Pit"),
        ("Pit", "BombsiteA"),
        ("Pit", "Graveyard"),
        ("Graveyard", "BombsiteA"),
        ("Graveyard", "Library"),
    ],
)


# de_nuke: radar overview pos_x -3453, pos_y 2887, scale 7; the lower radar level
# starts below z -495.  T spawn west, CT spawn east, the big Outside yard to the south;
# A site on the ground floor of the reactor building, B site below it.
_NUKE = _build(
    "de_nuke",
    [
        ("TSpawn", "T Spawn", -1870, -1080, -416, None),
        ("Outside", "Outside", 600, -1800, -416, None),
        ("Silo", "Silo", -200, -1900, -300, None),
        ("Roof", "Roof", -900, -1300, -200, None),
        ("Lobby", "Lobby", -500, -650, -350, None),
        ("Squeaky", "Squeaky", 250, -450, -410, None),
        ("Hut", "Hut", 250, -1000, -380, None),
        ("Vending", "Vending", -300, -250, -350, None),
        ("Trophy", "Trophy", 0, 0, -380, None),
        ("Control", "Control", 300, 150, -420, None),
        ("Ramp", "Ramp", 550, -200, -580, None),
        ("Admin", "Admin", 1000, 0, -420, None),
        ("Hell", "Hell", 1170, -440, -416, None),
        ("Heaven", "Heaven", 1120, -390, -130, None),
        ("Rafters", "Rafters", 850, -500, -200, None),
        ("Catwalk", "Catwalk", 1450, -1150, -160, None),
        ("BombsiteA", "A Site", 700, -650, -415, "A"),
        ("Mini", "Main", 1300, -1300, -415, None),
        ("LockerRoom", "Locker Room", 1850, -800, -416, None),
        ("Garage", "Garage", 2100, -2300, -416, None),
        ("Secret", "Secret", 1500, -1700, -560, None),
        ("Tunnels", "Tunnels", 1050, -1250, -700, None),
        ("Vents", "Vents", 850, -850, -580, None),
        ("Decon", "Decon", 1250, -1000, -760, None),
        ("Observation", "Observation", 1100, -650, -690, None),
        ("BombsiteB", "B Site", 813, -920, -760, "B"),
        ("CTSpawn", "CT Spawn", 2400, -420, -352, None),
    ],
    [
        ("TSpawn", "Outside"),
        ("TSpawn", "Lobby"),
        ("Outside", "Lobby"),
        ("Outside", "Silo"),
        ("Outside", "Roof"),
        ("Silo", "Roof"),
        ("Roof", "Lobby"),
        ("Lobby", "Squeaky"),
        ("Lobby", "Hut"),
        ("Lobby", "Vending"),
        ("Squeaky", "BombsiteA"),
        ("Hut", "BombsiteA"),
        ("Vending", "Trophy"),
        ("Trophy", "Control"),
        ("Control", "Ramp"),
        ("Ramp", "Admin"),
        ("Ramp", "BombsiteB"),
        ("Admin", "Hell"),
        ("Hell", "Heaven"),
        ("Hell", "BombsiteA"),
        ("Hell", "LockerRoom"),
        ("Heaven", "Rafters"),
        ("Heaven", "Catwalk"),
        ("Rafters", "BombsiteA"),
        ("Outside", "Mini"),
        ("Mini", "BombsiteA"),
        ("Outside", "LockerRoom"),
        ("Outside", "Garage"),
        ("Outside", "Secret"),
        ("Secret", "Tunnels"),
        ("Tunnels", "Vents"),
        ("Vents", "BombsiteA"),
        ("Tunnels", "Decon"),
        ("Tunnels", "Observation"),
        ("Tunnels", "BombsiteB"),
        ("Decon", "BombsiteB"),
        ("Observation", "BombsiteB"),
        ("CTSpawn", "Outside"),
        ("CTSpawn", "Hell"),
        ("CTSpawn", "LockerRoom"),
    ],
    [
        ("TSpawn", "Outside"),
        ("TSpawn", "Roof"),
        # the long outside sightlines: Silo/Roof across the yard to Garage and Secret
        ("Outside", "Silo"),
        ("Outside", "Roof"),
        ("Outside", "Garage"),
        ("Outside", "Secret"),
        ("Outside", "Mini"),
        ("Outside", "Catwalk"),
        ("Silo", "Garage"),
        ("Roof", "Garage"),
        ("Silo", "Roof"),
        ("Garage", "Secret"),
        ("Lobby", "Squeaky"),
        ("Lobby", "Hut"),
        ("Lobby", "Vending"),
        ("Vending", "Trophy"),
        ("Trophy", "Control"),
        ("Control", "Ramp"),
        # A site is one open hall: Heaven and Rafters see the whole floor, Hut included
        ("Squeaky", "BombsiteA"),
        ("Hut", "BombsiteA"),
        ("Heaven", "BombsiteA"),
        ("Heaven", "Hut"),
        ("Heaven", "Squeaky"),
        ("Heaven", "Rafters"),
        ("Heaven", "Mini"),
        ("Rafters", "BombsiteA"),
        ("Rafters", "Hut"),
        ("Hell", "BombsiteA"),
        ("Mini", "BombsiteA"),
        ("Vents", "BombsiteA"),
        ("Heaven", "Catwalk"),
        ("Ramp", "BombsiteB"),
        ("Ramp", "Admin"),
        ("Decon", "BombsiteB"),
        ("Observation", "BombsiteB"),
        ("Tunnels", "BombsiteB"),
        ("Secret", "Tunnels"),
        ("Vents", "Tunnels"),
        ("LockerRoom", "CTSpawn"),
    ],
)


MAPS: Mapping[str, MapGraph] = MappingProxyType({g.name: g for g in (_MIRAGE, _INFERNO, _NUKE)})


def get_map(name: str) -> MapGraph:
    """The graph of a map by its name ("de_mirage"); KeyError lists the known maps."""
    try:
        return MAPS[name]
    except KeyError:
        raise KeyError(f"unknown map {name!r}; known maps: {', '.join(sorted(MAPS))}") from None
