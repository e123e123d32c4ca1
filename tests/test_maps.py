"""Tests for chimera.maps: the place graphs of the simulated maps."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from chimera.maps import MAPS, MapGraph, get_map

MAP_NAMES = ("de_mirage", "de_inferno", "de_nuke")


@pytest.fixture(params=MAP_NAMES)
def graph(request: pytest.FixtureRequest) -> MapGraph:
    return get_map(request.param)


def test_all_maps_load_by_name() -> None:
    for name in MAP_NAMES:
        g = get_map(name)
        assert g.name == name
        assert MAPS[name] is g


def test_unknown_map_raises_keyerror_listing_known_maps() -> None:
    with pytest.raises(KeyError) as err:
        get_map("de_dust3")
    message = str(err.value)
    assert "de_dust3" in message
    for name in MAP_NAMES:
        assert name in message


def test_place_count_is_realistic(graph: MapGraph) -> None:
    assert 20 <= len(graph.places) <= 35


def test_edges_and_sight_name_existing_places_without_self_pairs(graph: MapGraph) -> None:
    for a, b in graph.edges + graph.sight:
        assert a in graph.places and b in graph.places
        assert a != b
    undirected = [frozenset(e) for e in graph.edges]
    assert len(undirected) == len(set(undirected)), "duplicate edge"


def test_graph_is_connected(graph: MapGraph) -> None:
    seen = {graph.t_spawn}
    frontier = [graph.t_spawn]
    while frontier:
        for nxt in graph.neighbors(frontier.pop()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(graph.places)
    assert all(math.isfinite(graph.distance(graph.t_spawn, p)) for p in graph.places)


def test_neighbors_match_edges(graph: MapGraph) -> None:
    for a, b in graph.edges:
        assert b in graph.neighbors(a)
        assert a in graph.neighbors(b)
    assert sum(len(graph.neighbors(p)) for p in graph.places) == 2 * len(graph.edges)


def test_bombsites_and_spawns(graph: MapGraph) -> None:
    assert set(graph.bombsites) == {"A", "B"}
    for letter, place in graph.bombsites.items():
        assert graph.places[place].site == letter
    assert [p for p in graph.places.values() if p.site == "A" and p.name == graph.bombsites["A"]]
    assert graph.t_spawn in graph.places
    assert graph.ct_spawn in graph.places


def test_ct_spawn_strictly_closer_to_both_sites(graph: MapGraph) -> None:
    for site in graph.bombsites.values():
        assert graph.distance(graph.ct_spawn, site) < graph.distance(graph.t_spawn, site)


def test_t_spawn_to_sites_walking_distance_is_plausible(graph: MapGraph) -> None:
    for site in graph.bombsites.values():
        assert 1500 <= graph.distance(graph.t_spawn, site) <= 6000


def test_t_spawn_nearest_site_ratio_is_realistic(graph: MapGraph) -> None:
    t = min(graph.distance(graph.t_spawn, s) for s in graph.bombsites.values())
    nearest = min(graph.bombsites.values(), key=lambda s: graph.distance(graph.t_spawn, s))
    ratio = t / graph.distance(graph.ct_spawn, nearest)
    assert 1.4 <= ratio <= 2.6


def test_distance_symmetric_and_zero_on_diagonal(graph: MapGraph) -> None:
    for a, b in itertools.combinations(graph.places, 2):
        assert graph.distance(a, b) == pytest.approx(graph.distance(b, a))
        assert graph.distance(a, b) > 0
    for p in graph.places:
        assert graph.distance(p, p) == 0.0
        assert graph.path(p, p) == (p,)


def test_triangle_inequality_on_sample(graph: MapGraph) -> None:
    rng = random.Random(7)
    names = sorted(graph.places)
    for _ in range(300):
        a, b, c = (rng.choice(names) for _ in range(3))
        assert graph.distance(a, c) <= graph.distance(a, b) + graph.distance(b, c) + 1e-6


def test_path_is_a_walk_along_edges_of_the_right_length(graph: MapGraph) -> None:
    for a, b in itertools.permutations(graph.places, 2):
        p = graph.path(a, b)
        assert p[0] == a and p[-1] == b
        assert len(set(p)) == len(p)
        for u, v in itertools.pairwise(p):
            assert v in graph.neighbors(u)
        length = sum(graph.edge_length(u, v) for u, v in itertools.pairwise(p))
        assert length == pytest.approx(graph.distance(a, b))


def test_direct_edge_is_never_shorter_than_distance(graph: MapGraph) -> None:
    for a, b in graph.edges:
        assert graph.distance(a, b) <= graph.edge_length(a, b) + 1e-9


def test_can_see_symmetric_and_reflexive(graph: MapGraph) -> None:
    for p in graph.places:
        assert graph.can_see(p, p)
    for a, b in itertools.combinations(graph.places, 2):
        assert graph.can_see(a, b) == graph.can_see(b, a)
    for a, b in graph.sight:
        assert graph.can_see(a, b) and graph.can_see(b, a)


def test_names_engine_style_and_callouts_present(graph: MapGraph) -> None:
    for name, place in graph.places.items():
        assert name == place.name
        assert " " not in name and name.isalnum()
        assert place.callout.strip()
        assert graph.callout(name) == place.callout
    assert graph.callout(graph.t_spawn) == "T Spawn"
    assert graph.callout(graph.ct_spawn) == "CT Spawn"
    assert graph.callout(graph.bombsites["A"]) == "A Site"
    assert graph.callout(graph.bombsites["B"]) == "B Site"


def test_unknown_place_raises_keyerror(graph: MapGraph) -> None:
    with pytest.raises(KeyError):
        graph.neighbors("Nowhere")
    with pytest.raises(KeyError):
        graph.distance(graph.t_spawn, "Nowhere")
    with pytest.raises(KeyError):
        graph.callout("Nowhere")


def test_nuke_is_two_level() -> None:
    nuke = get_map("de_nuke")
    a = nuke.places[nuke.bombsites["A"]]
    b = nuke.places[nuke.bombsites["B"]]
    assert a.z - b.z > 200


def test_known_routes_and_sightlines() -> None:
    mirage = get_map("de_mirage")
    assert mirage.can_see("SnipersNest", "TopofMid")
    assert "Apartments" in mirage.path("TSpawn", "BombsiteB")
    assert "TRamp" in mirage.path("TSpawn", "BombsiteA")
    inferno = get_map("de_inferno")
    assert inferno.can_see("Banana", "BombsiteB")
    assert "Banana" in inferno.path("TSpawn", "BombsiteB")
    nuke = get_map("de_nuke")
    assert nuke.can_see("Heaven", "BombsiteA") and nuke.can_see("Heaven", "Hut")
    assert "Lobby" in nuke.path("TSpawn", "BombsiteA")
