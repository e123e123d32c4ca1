"""One round of CS2, stepped a few ticks at a time: decisions, movement, utility, fights, the bomb.

The engine works in steps of ``step_ticks`` (4 ticks = 1/16 s by default) for speed; every event keeps
an exact tick. Fights are a race between reaction time and damage: when two players first see each
other each gets a reaction delay (shorter for a player holding still with a good aim, longer for one
who is moving), then fires at the gun's rate, hitting with a chance set by weapon, aim, distance and
movement. Numbers, flashes, smokes, health, armour and weapons all enter through that one mechanism,
which is why the decisions of :mod:`chimera.sim.policy` change who wins.
"""

from __future__ import annotations

import functools
import math
import random

from chimera.config import SimParams
from chimera.maps import MapGraph
from chimera.sight import SMOKE_RADIUS, sees
from chimera.sim import economy, policy, weapons
from chimera.sim.recorder import Recorder
from chimera.sim.state import ACTIONS, AWPY_SIDE, CT, Area, Grenade, Player, RoundState, T
from chimera.tables import TICK_RATE

SMOKE_S, FIRE_S = 18.0, 7.0
FIRE_RADIUS, HE_RADIUS, FLASH_RANGE = 170.0, 350.0, 1800.0
FIRE_DAMAGE = 10  # raw damage every 16 ticks (a quarter second) standing in a fire
ASSIST_DAMAGE = 41  # CS2 awards an assist for more than 40 damage to the victim
GENERIC = (0, "generic")
MOVING_ACTIONS = frozenset({"advance", "fall_back", "rotate", "save"})


class RoundEngine:
    """Steps a :class:`RoundState` forward; owns no state of its own beyond caches of the map."""

    def __init__(self, graph: MapGraph, params: SimParams, state: RoundState, rec: Recorder, every: int):
        self.graph, self.params, self.state, self.rec, self.every = graph, params, state, rec, every
        self.n = params.step_ticks
        self.dt = self.n / TICK_RATE

    # -- driving -------------------------------------------------------------------------------------
    def run(self, until_tick: int | None = None, post_round: bool = True) -> RoundState:
        """Step until ``until_tick``, or the end of the round (plus the post-round delay if asked)."""
        s = self.state
        restart = round(self.params.round_restart_delay_s * TICK_RATE)
        while until_tick is None or s.tick < until_tick:
            if s.end_tick >= 0 and (not post_round or s.tick >= s.end_tick + restart):
                break
            self.step()
        return s

    def step(self) -> None:
        s, t = self.state, self.state.tick
        # A step at tick t plays the ticks (t - n, t]: every event it writes has a tick <= t, and the
        # snapshot of tick t is taken afterwards: a table row at tick T reflects exactly the events up to T.
        if s.winner is None and t >= s.freeze_end_tick:
            if t < s.freeze_end_tick + self.n:
                self._setup_round(t)
            self._land_grenades(t)
            self._decide(t)
            self._move(t)
            visible = self._vision(t)
            self._combat(t, visible)
            self._burn(t)
            self._bomb(t)
            self._check_end(t)
        self._record(t)
        s.tick = t + self.n

    def force(self, steamid: int, action: str, seconds: float) -> None:
        """Make one player take ``action`` now and keep it for ``seconds`` (counterfactual rollouts).

        Only an action in :meth:`legal_actions` can be forced: the engine would otherwise quietly turn an
        impossible plant into an advance, and the rollout would measure a different action than asked.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; choose from {ACTIONS}")
        legal = self.legal_actions(steamid)
        if action not in legal:
            p = self.state.player(steamid)
            raise ValueError(
                f"{p.name} cannot {action} at tick {self.state.tick} of round {self.state.round_num} "
                f"(legal now: {', '.join(legal) or 'nothing'})"
            )
        p = self.state.player(steamid)
        p.forced, p.forced_until = action, self.state.tick + round(seconds * TICK_RATE)
        self._apply(p, action, self.state.tick)

    def legal_actions(self, steamid: int) -> tuple[str, ...]:
        """The actions ``steamid`` can decide on now, in :data:`ACTIONS` order (the policy's feasible set).

        Empty when the player cannot decide: dead, in freeze time, mid-plant or mid-defuse, round over.
        """
        s, p = self.state, self.state.player(steamid)
        if not self._deciding(p) or s.winner is not None or s.tick < s.freeze_end_tick:
            return ()
        return tuple(a for a in ACTIONS if a in self.scores(p))

    def scores(self, p: Player) -> dict[str, float]:
        """The policy's score of every action ``p`` can take now (:func:`chimera.sim.policy.scores`)."""
        v = policy.view(
            self.state, p, self.graph, self.params.round_time_s, self.params.bomb_timer_s, TICK_RATE
        )
        defuse_s = self.params.defuse_kit_time_s if p.defuser else self.params.defuse_time_s
        return policy.scores(v, p.side, p.aggression, defuse_s)

    @staticmethod
    def _deciding(p: Player) -> bool:
        return p.alive and p.planting_until < 0 and p.defusing_until < 0

    # -- round set-up at freeze end ------------------------------------------------------------------
    def _setup_round(self, t: int) -> None:
        s, rng = self.state, self.state.streams["team"]
        ts, cts = s.alive(T), s.alive(CT)
        eco = s.team_of(T).buy_type == "eco"
        s.t_execute_tick = t + round((rng.uniform(4, 14) if eco else rng.uniform(25, 70)) * TICK_RATE)
        lurker = rng.choice(ts) if ts and rng.random() < 0.6 else None
        for p in ts:
            p.goal_site = "B" if (p is lurker) == (s.t_target == "A") else "A"
            self._apply(p, "advance", t)
        sites = ["A", "A", "B", "B", "mid"]
        rng.shuffle(sites)
        for p, site in zip(cts, sites, strict=False):
            p.goal_site = site if site != "mid" else rng.choice("AB")
            p.hold_spot = self._mid_spot() if site == "mid" else rng.choice(self._site_region(p.goal_site))
            self._apply(p, "hold", t)
        for p in s.players:
            p.next_decision = t + round(self._stream(p).uniform(3, 8) * TICK_RATE)

    def _site_region(self, site: str) -> list[str]:
        """The bombsite and its neighbours on the CT side: where defenders of that site stand."""
        g = self.graph
        bomb = g.bombsites[site]
        return [bomb] + [q for q in g.neighbors(bomb) if g.distance(q, g.ct_spawn) < g.distance(q, g.t_spawn)]

    def _mid_spot(self) -> str:
        g = self.graph
        a, b = g.bombsites["A"], g.bombsites["B"]
        return min(
            (q for q in g.places if q not in (g.t_spawn, g.ct_spawn)),
            key=lambda q: abs(g.distance(q, a) - g.distance(q, b)) + 0.5 * g.distance(q, g.ct_spawn),
        )

    def _staging(self, site: str) -> str:
        path = self.graph.path(self.graph.t_spawn, self.graph.bombsites[site])
        return path[max(0, len(path) - 3)]

    # -- decisions -----------------------------------------------------------------------------------
    def _stream(self, p: Player) -> random.Random:
        return self.state.streams[f"decide:{p.steamid}"]

    def _decide(self, t: int) -> None:
        s = self.state
        if s.t_execute_tick <= t < s.t_execute_tick + self.n:
            for p in s.alive(T):
                p.goal_site = s.t_target
                p.next_decision = t
        for p in s.players:
            if not self._deciding(p) or (p.forced is not None and t < p.forced_until) or t < p.next_decision:
                continue
            action = policy.choose(self.scores(p), self.params.decision_noise, self._stream(p))
            p.next_decision = t + round(self._stream(p).uniform(2.0, 4.0) * TICK_RATE)
            self._apply(p, action, t)

    def _apply(self, p: Player, action: str, t: int) -> None:
        """Turn a decision into a goal (a place to walk to) or an immediate act."""
        s, g = self.state, self.graph
        if action == "utility":
            if not self._throw(p, t):
                action = "hold"
            else:
                return
        if action == "plant" and not (p.has_bomb and p.place == g.bombsites[s.t_target]):
            action = "advance"
        if action == "defuse" and not (s.planted_tick >= 0 and p.side == CT and p.place == s.bomb_place):
            action = "advance" if p.side == CT else "hold"
        p.action = action
        if action == "plant":
            p.planting_until = t + round(self.params.plant_time_s * TICK_RATE)
            self.rec.bomb(t, "start_plant", p, None)
            self._set_goal(p, p.place)
        elif action == "defuse":
            kit = self.params.defuse_kit_time_s if p.defuser else self.params.defuse_time_s
            p.defusing_until = t + round(kit * TICK_RATE)
            self._set_goal(p, p.place)
        elif action == "hold":
            self._set_goal(p, p.hold_spot if p.side == CT and s.planted_tick < 0 and p.hold_spot else p.place)
        elif action == "advance":
            self._set_goal(p, self._advance_goal(p, t))
        elif action == "fall_back":
            self._set_goal(p, self._fall_back_goal(p, t))
        elif action == "rotate":
            p.goal_site = "B" if p.goal_site == "A" else "A"
            if p.side == T:
                if p.has_bomb:
                    s.t_target = p.goal_site
                goal = g.bombsites[p.goal_site] if t >= s.t_execute_tick else self._staging(p.goal_site)
            else:
                p.hold_spot = self._stream(p).choice(self._site_region(p.goal_site))
                goal = p.hold_spot
            self._set_goal(p, goal)
        elif action == "save":
            self._set_goal(p, g.t_spawn if p.side == T else g.ct_spawn)

    def _fresh_enemies(self, p: Player, t: int) -> list[str]:
        return [place for place, seen in self.state.known_by(p.side).values() if t - seen < 5 * TICK_RATE]

    def _advance_goal(self, p: Player, t: int) -> str:
        s, g = self.state, self.graph
        if p.side == T and s.bomb_dropped and s.bomb_place is not None:
            carrier = min(s.alive(T), key=lambda q: g.distance(q.place, s.bomb_place))
            if carrier is p:
                return s.bomb_place
        if s.planted_tick >= 0:
            if p.side == CT:
                return s.bomb_place or g.bombsites[s.planted_site or "A"]
            known = self._fresh_enemies(p, t)
            return min(known, key=lambda q: g.distance(p.place, q)) if known else (s.bomb_place or p.place)
        if p.side == T:
            site = p.goal_site or s.t_target
            if t >= s.t_execute_tick or p.aggression > 0.8 or p.place == self._staging(site):
                return g.bombsites[site]
            return self._staging(site)
        known = self._fresh_enemies(p, t)
        if known:
            return min(known, key=lambda q: g.distance(p.place, q))
        return self._staging(p.goal_site or "A")

    def _fall_back_goal(self, p: Player, t: int) -> str:
        g = self.graph
        known = self._fresh_enemies(p, t)
        home = g.t_spawn if p.side == T else g.ct_spawn
        options = (p.place, *g.neighbors(p.place))
        if known:
            return max(options, key=lambda q: min(g.distance(q, k) for k in known))
        return min(options, key=lambda q: g.distance(q, home))

    # -- movement ------------------------------------------------------------------------------------
    def _set_goal(self, p: Player, goal: str) -> None:
        g = self.graph
        p.goal = goal
        if p.path and p.progress > 0:
            nxt, edge = p.path[0], self._edge(p, p.place, p.path[0])
            if g.distance(nxt, goal) + edge - p.progress <= g.distance(p.place, goal) + p.progress:
                p.path = [nxt, *g.path(nxt, goal)[1:]]
            else:  # turn around on the edge
                back = p.place
                p.place, p.progress = nxt, edge - p.progress
                p.path = [back, *g.path(back, goal)[1:]]
        else:
            p.progress = 0.0
            p.path = list(g.path(p.place, goal)[1:])

    def _edge(self, p: Player, a: str, b: str) -> float:
        """Length of the walk from ``p``'s spot on ``a`` to its spot on ``b``."""
        return math.dist(spot(self.graph, p.steamid, a), spot(self.graph, p.steamid, b))

    def _move(self, t: int) -> None:
        for p in self.state.players:
            p.moved = False
            if not p.alive or p.planting_until >= 0 or p.defusing_until >= 0 or not p.path:
                continue
            if p.ready and p.action not in ("fall_back", "save") and any(r <= t for r in p.ready.values()):
                continue  # stops to fight
            step = weapons.stats(p.weapon).speed * self.dt
            x0, y0 = p.x, p.y
            while step > 0 and p.path:
                nxt = p.path[0]
                if (p.forced is None or t >= p.forced_until) and self._burning(nxt, t):
                    break
                rest = self._edge(p, p.place, nxt) - p.progress
                if step >= rest:
                    p.place, p.progress, step = nxt, 0.0, step - rest
                    p.path.pop(0)
                else:
                    p.progress, step = p.progress + step, 0.0
            self._place_xyz(p)
            p.vx, p.vy = (p.x - x0) / self.dt, (p.y - y0) / self.dt
            p.moved = p.vx != 0 or p.vy != 0
            if p.moved:
                p.yaw = math.degrees(math.atan2(p.vy, p.vx))
            if not p.path and p.action in MOVING_ACTIONS:
                if p.forced is not None and t < p.forced_until:
                    self._apply(p, p.forced, t)  # a forced push keeps pushing past each goal
                else:
                    p.next_decision = min(p.next_decision, t + self.n)

    def _place_xyz(self, p: Player) -> None:
        a = spot(self.graph, p.steamid, p.place)
        if p.path and p.progress > 0:
            b = spot(self.graph, p.steamid, p.path[0])
            f = p.progress / max(math.dist(a, b), 1e-6)
            p.x, p.y, p.z = (a[k] + f * (b[k] - a[k]) for k in range(3))
        else:
            p.x, p.y, p.z = a

    def current_place(self, p: Player) -> str:
        """The place name the engine reports for ``p`` (the nearer end of the edge it walks)."""
        if p.path and p.progress > 0.5 * self._edge(p, p.place, p.path[0]):
            return p.path[0]
        return p.place

    # -- sight and fights ----------------------------------------------------------------------------
    def _smokes(self, t: int) -> list[tuple[float, float]]:
        return [
            (a.x, a.y)
            for a in self.state.areas
            if a.kind == "smokegrenade" and a.start_tick <= t <= a.end_tick
        ]

    def _vision(self, t: int) -> dict[int, list[Player]]:
        s, g = self.state, self.graph
        smokes = self._smokes(t)
        ts, cts = s.alive(T), s.alive(CT)
        places = {p.steamid: self.current_place(p) for p in ts + cts}
        visible: dict[int, list[Player]] = {p.steamid: [] for p in ts + cts}
        for a in ts:
            for b in cts:
                if not sees(g, places[a.steamid], (a.x, a.y), places[b.steamid], (b.x, b.y), smokes):
                    a.ready.pop(b.steamid, None)
                    b.ready.pop(a.steamid, None)
                    continue
                visible[a.steamid].append(b)
                visible[b.steamid].append(a)
                s.known[T][b.steamid] = (places[b.steamid], t)
                s.known[CT][a.steamid] = (places[a.steamid], t)
                for me, other in ((a, b), (b, a)):
                    if other.steamid not in me.ready and me.blind_until <= t:
                        me.ready[other.steamid] = t + self._reaction(me)
                        if me.forced is None:
                            me.next_decision = min(me.next_decision, t + self.n)
        return visible

    def _reaction(self, p: Player) -> int:
        base = 0.20 / p.aim
        if p.action == "hold" and not p.moved:
            base *= 0.7  # crosshair already on the angle
        elif p.moved:
            base *= 1.3  # has to stop and aim
        return round((base + self.state.streams["combat"].uniform(0.0, 0.12)) * TICK_RATE)

    def _combat(self, t: int, visible: dict[int, list[Player]]) -> None:
        s, rng = self.state, self.state.streams["combat"]
        tick = t
        order = [p for p in s.players if p.alive]
        rng.shuffle(order)
        for p in order:
            if not p.alive or p.blind_until > t or p.planting_until >= 0 or p.defusing_until >= 0:
                continue
            targets = [
                e for e in visible.get(p.steamid, ()) if e.alive and p.ready.get(e.steamid, tick + 1) <= tick
            ]
            if not targets or tick < p.reload_until:
                p.shot_debt = 0.0
                continue
            target = min(targets, key=lambda e: math.dist((p.x, p.y), (e.x, e.y)))
            gun = weapons.stats(p.weapon)
            p.shot_debt += gun.rate * self.dt
            while p.shot_debt >= 1 and target.alive and tick >= p.reload_until:
                p.shot_debt -= 1
                self._shoot(p, target, gun, tick, rng)

    def _shoot(self, p: Player, target: Player, gun: weapons.GunStats, tick: int, rng: random.Random) -> None:
        weapon = p.weapon
        p.clip -= 1
        self.rec.shot(
            tick,
            p,
            weapon,
            pitch=0.0,
            scoped=weapon in ("awp", "ssg08", "scar20", "g3sg1") and not p.moved,
            inaccuracy=0.01 if not p.moved else 0.12,
            bullets=max(p.clip, 0),
        )
        if p.clip <= 0:
            p.clip = gun.clip
            p.reload_until = tick + round(gun.reload_s * TICK_RATE)
        d = math.dist((p.x, p.y, p.z), (target.x, target.y, target.z))
        if weapon == "knife" and d > 100:
            return
        chance = gun.accuracy * p.aim * (0.55 if p.moved else 1.0)
        chance *= 1.25 if d < 400 else max(0.1, 1 - gun.range_falloff * max(0.0, d - 1000) / 1000)
        if rng.random() >= min(chance, 0.95):
            return
        r, hitgroup, mult = rng.random(), weapons.HITGROUPS[-1], 1.0
        for code, name, share, m in weapons.HITGROUPS:
            r -= share
            if r <= 0:
                hitgroup, mult = (code, name, share, m), m
                break
        raw = gun.damage * mult
        if gun.pellets > 1:
            raw = gun.damage * gun.pellets * 0.45 * max(0.2, 1 - d / 1200)
        self._hurt(p, target, weapon, raw, (hitgroup[0], hitgroup[1]), tick, gun.armor_ratio)

    def _hurt(
        self,
        attacker: Player | None,
        victim: Player,
        weapon: str,
        raw: float,
        hitgroup: tuple[int, str],
        tick: int,
        armor_ratio: float,
    ) -> None:
        """Apply one hit the way CS2 does (armour absorbs a share unless a helmetless head is hit)."""
        protected = victim.armor > 0 and (hitgroup[0] != 1 or victim.helmet)
        dmg_health = int(raw * armor_ratio) if protected else int(raw)
        dmg_armor = min(victim.armor, int((raw - dmg_health) / 2)) if protected else 0
        if dmg_health <= 0 and dmg_armor <= 0:
            return
        before = victim.health
        victim.health = max(0, victim.health - dmg_health)
        victim.armor -= dmg_armor
        self.rec.damage(
            tick, attacker, victim, weapon, dmg_health, dmg_armor, hitgroup, victim.health, victim.armor
        )
        if attacker is not None and attacker.side != victim.side:
            self.state.damage_log.setdefault(victim.steamid, {}).setdefault(attacker.steamid, 0)
            self.state.damage_log[victim.steamid][attacker.steamid] += before - victim.health
        if victim.health == 0:
            self._kill(attacker, victim, weapon, hitgroup, tick)
        elif victim.forced is None:
            victim.next_decision = min(victim.next_decision, tick + self.n)

    def _kill(
        self, attacker: Player | None, victim: Player, weapon: str, hitgroup: tuple[int, str], tick: int
    ) -> None:
        s = self.state
        victim.alive, victim.died_tick = False, tick
        assister, flash = None, False
        helpers = s.damage_log.get(victim.steamid, {})
        for sid, dmg in sorted(helpers.items(), key=lambda kv: -kv[1]):
            if dmg >= ASSIST_DAMAGE and (attacker is None or sid != attacker.steamid):
                assister = s.player(sid)
                break
        if assister is None and victim.blind_until > tick and victim.flashed_by >= 0:
            cand = s.player(victim.flashed_by)
            if cand.side != victim.side and (attacker is None or cand is not attacker):
                assister, flash = cand, True
        smokes = self._smokes(tick)
        thru = attacker is not None and any(
            math.dist((x, y), (victim.x, victim.y)) < SMOKE_RADIUS
            or math.dist((x, y), (attacker.x, attacker.y)) < SMOKE_RADIUS
            for x, y in smokes
        )
        self.rec.kill(
            tick,
            attacker,
            victim,
            assister,
            weapon,
            hitgroup,
            assist_flash=flash,
            thrusmoke=thru,
            noscope=weapon in ("awp", "ssg08") and attacker is not None and attacker.moved,
        )
        s.last_kill_tick = tick
        if attacker is not None and attacker.side != victim.side:
            attacker.money = min(attacker.money + weapons.kill_reward(weapon), self.params.economy.max_money)
        if victim.planting_until >= 0:
            self.rec.bomb(tick, "interrupt_plant", victim, None)
        if victim.has_bomb:
            victim.has_bomb = False
            s.bomb_dropped, s.bomb_place = True, self.current_place(victim)
            self.rec.bomb(tick, "drop", victim, None)
        victim.planting_until = victim.defusing_until = -1
        victim.primary = victim.secondary = None
        victim.grenades, victim.armor, victim.helmet, victim.defuser = [], 0, False, False
        victim.path, victim.ready = [], {}
        for p in s.players:
            p.ready.pop(victim.steamid, None)
            if p.alive and p.side == victim.side and p.forced is None:
                p.next_decision = min(p.next_decision, tick + self.n)

    # -- utility -------------------------------------------------------------------------------------
    def _throw(self, p: Player, t: int) -> bool:
        """Throw the grenade that fits the moment at the place that matters; False if nothing to throw."""
        s, g, rng = self.state, self.graph, self.state.streams["utility"]
        nades = [n for n in p.grenades if n != "decoy"]
        if not nades:
            return False
        known = self._fresh_enemies(p, t)
        near = [q for q in known if g.distance(p.place, q) < 1500]
        if near:
            target = min(near, key=lambda q: g.distance(p.place, q))
            order = ("flashbang", "molotov", "incgrenade", "hegrenade", "smokegrenade")
        elif p.side == T:
            site = g.bombsites[s.t_target]
            ct_side = [
                q for q in g.neighbors(site) if g.distance(q, g.ct_spawn) < g.distance(site, g.ct_spawn)
            ]
            target = site
            order = ("smokegrenade", "flashbang", "molotov", "hegrenade")
            if ct_side and "smokegrenade" in nades:
                target = rng.choice(ct_side)
        else:
            target = self._staging(p.goal_site or "A")
            order = ("smokegrenade", "incgrenade", "molotov", "hegrenade", "flashbang")
        kind = next((k for k in order if k in nades), nades[0])
        p.grenades.remove(kind)
        dest = g.places[target]
        jx, jy = rng.uniform(-40, 40), rng.uniform(-40, 40)
        flight = (
            1.6
            if kind in ("flashbang", "hegrenade")
            else 0.9 + math.dist((p.x, p.y), (dest.x, dest.y)) / 1500
        )
        nade = Grenade(
            s.next_entity,
            kind,
            p.steamid,
            p.side,
            target,
            t,
            t + round(flight * TICK_RATE),
            p.x,
            p.y,
            p.z,
            dest.x + jx,
            dest.y + jy,
            dest.z,
        )
        s.next_entity += 1
        s.grenades.append(nade)
        self.rec.shot(t, p, kind, pitch=-10.0, scoped=False, inaccuracy=0.0, bullets=0)
        self._record_flight(p, nade)
        return True

    def _record_flight(self, p: Player, nade: Grenade) -> None:
        kind = (
            "molotov"
            if nade.kind in ("molotov", "incgrenade")
            else {"smokegrenade": "smoke", "hegrenade": "he", "flashbang": "flashbang", "decoy": "decoy"}[
                nade.kind
            ]
        )
        span = max(nade.land_tick - nade.throw_tick, 1)
        for k in range(span + 1):
            f = k / span
            z = nade.z0 + 64 + (nade.z1 - nade.z0 - 64) * f + 160 * 4 * f * (1 - f)
            self.rec.add(
                "grenades",
                nade.throw_tick + k,
                p.name,
                p.steamid,
                AWPY_SIDE[p.side],
                kind,
                nade.entity_id,
                1,
                nade.x0 + (nade.x1 - nade.x0) * f,
                nade.y0 + (nade.y1 - nade.y0) * f,
                z,
            )

    def _land_grenades(self, t: int) -> None:
        s = self.state
        for nade in [n for n in s.grenades if n.land_tick <= t]:
            s.grenades.remove(nade)
            tick = nade.land_tick
            if nade.kind in ("smokegrenade", "molotov", "incgrenade"):
                life = SMOKE_S if nade.kind == "smokegrenade" else FIRE_S
                s.areas.append(
                    Area(
                        nade.entity_id,
                        nade.kind,
                        nade.thrower,
                        nade.side,
                        nade.target,
                        nade.x1,
                        nade.y1,
                        nade.z1,
                        tick,
                        tick + round(life * TICK_RATE),
                    )
                )
                if nade.kind == "smokegrenade":  # a smoke puts out fires it lands on
                    for fire in s.areas:
                        if (
                            fire.kind != "smokegrenade"
                            and fire.end_tick > tick
                            and math.dist((fire.x, fire.y), (nade.x1, nade.y1)) < SMOKE_RADIUS + FIRE_RADIUS
                        ):
                            fire.end_tick = tick
            elif nade.kind == "flashbang":
                self._flash(nade, tick)
            elif nade.kind == "hegrenade":
                thrower = s.player(nade.thrower)
                for p in [q for q in s.players if q.alive]:
                    d = math.dist((p.x, p.y), (nade.x1, nade.y1))
                    if d < HE_RADIUS:
                        self._hurt(thrower, p, "hegrenade", 98 * (1 - d / HE_RADIUS), GENERIC, tick, 0.5)

    def _flash(self, nade: Grenade, tick: int) -> None:
        s, rng = self.state, self.state.streams["utility"]
        smokes = self._smokes(tick)
        for p in s.players:
            if not p.alive:
                continue
            d = math.dist((p.x, p.y), (nade.x1, nade.y1))
            if d > FLASH_RANGE or not sees(
                self.graph, self.current_place(p), (p.x, p.y), nade.target, (nade.x1, nade.y1), smokes
            ):
                continue
            if p.side == nade.side:
                if rng.random() > 0.3:
                    continue
                secs = rng.uniform(0.3, 1.5)
            else:
                secs = rng.uniform(1.2, 4.0) * (1 - 0.5 * d / FLASH_RANGE)
            if tick + secs * TICK_RATE > p.blind_until:
                p.blind_until, p.blind_s, p.flashed_by = tick + round(secs * TICK_RATE), secs, nade.thrower
                p.ready = {}

    def _burning(self, place: str, t: int) -> bool:
        return any(
            a.kind != "smokegrenade" and a.place == place and a.start_tick <= t < a.end_tick
            for a in self.state.areas
        )

    def _burn(self, t: int) -> None:
        s = self.state
        for fire in [a for a in s.areas if a.kind != "smokegrenade" and a.start_tick <= t < a.end_tick]:
            ticks = [
                k
                for k in range(t - self.n + 1, t + 1)
                if (k - fire.start_tick) % 16 == 0 and fire.start_tick <= k < fire.end_tick
            ]
            if not ticks:
                continue
            thrower = s.player(fire.thrower)
            for p in [q for q in s.players if q.alive]:
                if math.dist((p.x, p.y), (fire.x, fire.y)) < FIRE_RADIUS:
                    self._hurt(thrower, p, "inferno", FIRE_DAMAGE, GENERIC, ticks[0], 1.0)
                    if p.alive and p.action not in ("fall_back", "save") and p.forced is None:
                        self._apply(p, "fall_back", t)

    # -- bomb and the end of the round ---------------------------------------------------------------
    def _bomb(self, t: int) -> None:
        s, end = self.state, t + self.n
        for p in s.players:
            if p.alive and 0 <= p.planting_until <= t:
                site = s.t_target
                self.rec.bomb(p.planting_until, "finish_plant", p, site)
                s.planted_tick, s.planted_site = p.planting_until, site
                s.bomb_place, p.has_bomb, p.planting_until = p.place, False, -1
                p.money = min(p.money + self.params.economy.plant_reward, self.params.economy.max_money)
                for q in s.players:
                    if q.alive and q.forced is None:
                        q.next_decision = min(q.next_decision, end)
            if p.alive and 0 <= p.defusing_until <= t and s.planted_tick >= 0 and not s.defused:
                self.rec.bomb(p.defusing_until, "defuse", p, s.planted_site)
                s.defused, s.defused_tick, p.defusing_until = True, p.defusing_until, -1
                p.money = min(p.money + self.params.economy.defuse_reward, self.params.economy.max_money)
        if s.bomb_dropped:
            for p in s.alive(T):
                if self.current_place(p) == s.bomb_place:
                    s.bomb_dropped, s.bomb_place, p.has_bomb = False, None, True
                    self.rec.bomb(t, "pickup", p, None)
                    break

    def _check_end(self, t: int) -> None:
        s = self.state
        round_end = s.freeze_end_tick + round(self.params.round_time_s * TICK_RATE)
        candidates = []
        if s.defused:
            candidates.append((s.defused_tick, CT, "bomb_defused"))
        if s.planted_tick >= 0:
            explode = s.planted_tick + round(self.params.bomb_timer_s * TICK_RATE)
            if explode <= t:
                candidates.append((explode, T, "target_bombed"))
        if not s.alive(CT):
            candidates.append((s.last_kill_tick, T, "terrorists_win"))
        if not s.alive(T) and s.planted_tick < 0:
            candidates.append((s.last_kill_tick, CT, "ct_win"))
        if s.planted_tick < 0 and round_end <= t:
            candidates.append((round_end, CT, "target_saved"))
        if candidates:
            s.end_tick, s.winner, s.reason = min(candidates)

    # -- recording -----------------------------------------------------------------------------------
    def _record(self, t: int) -> None:
        s = self.state
        official_end = s.end_tick + round(self.params.round_restart_delay_s * TICK_RATE)
        if t % self.every or (s.end_tick >= 0 and t >= official_end):
            return  # the next round starts at the official end: its first ticks are not ours
        blind = {p.steamid: p.blind_until > t for p in s.players}
        for p in s.players:
            self._snapshot_row(p, t, blind[p.steamid])

    def _snapshot_row(self, p: Player, tick: int, blinded: bool) -> None:
        alive = p.alive
        inv = _inventory(p) if alive else ""
        speed = math.hypot(p.vx, p.vy) if alive else 0.0
        active = ("c4" if p.planting_until >= 0 else p.weapon) if alive else None
        place = self.graph.places[self.current_place(p)]
        self.rec.add(
            "ticks",
            tick,
            p.steamid,
            p.name,
            AWPY_SIDE[p.side],
            p.x,
            p.y,
            p.z,
            p.vx if alive else 0.0,
            p.vy if alive else 0.0,
            0.0,
            speed,
            0.0,
            p.yaw,
            p.health,
            p.armor,
            p.helmet,
            p.defuser,
            p.has_bomb,
            active,
            p.primary,
            p.secondary,
            *(sum(g in kinds for g in p.grenades) for kinds in _GRENADE_COLUMNS),
            economy.equipment_value(p) if alive else p.round_start_value,
            p.round_start_value,
            p.money,
            False,
            alive and p.action == "hold" and speed > 0,
            False,
            alive and place.site is not None,
            alive and p.weapon == "awp" and not p.moved,
            alive and tick < p.reload_until,
            False,
            alive and p.defusing_until >= 0,
            alive and blinded,
            float(p.blind_s) if blinded and alive else 0.0,
            inv,
            place.name,
        )


@functools.cache
def spot(graph: MapGraph, steamid: int, place: str) -> tuple[float, float, float]:
    """Where a player stands on a place: a fixed spot per player, so five players on a site do not overlap."""
    centre, r = graph.places[place], random.Random(f"{steamid}:{place}")
    return (centre.x + r.uniform(-70, 70), centre.y + r.uniform(-70, 70), centre.z)


_GRENADE_COLUMNS = (("molotov", "incgrenade"), ("smokegrenade",), ("hegrenade",), ("flashbang",), ("decoy",))
"""The snapshot's fire_grenades, smoke_grenades, he_grenades, flashbangs, decoy_grenades columns."""


def _inventory(p: Player) -> str:
    items = [w for w in (p.primary, p.secondary) if w] + ["knife", *p.grenades]
    return ",".join(items + (["c4"] if p.has_bomb else []))
