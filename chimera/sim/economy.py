"""CS2 competitive economy: what each player buys at freeze time, and what a round pays.

Buys are decided per team from money, like pro teams do: a pistol buy on the first round of each half,
a full buy when (nearly) everyone can afford rifle + armour + utility, a force buy after repeated losses
or when the next round could not be a full buy either, otherwise an eco that saves. Rewards follow the
CS2 rules: win reward (higher for bomb objectives), the loss-bonus ladder with its counter that drops by
one on a win, +800 to Terrorists who lose with the bomb planted, nothing to Terrorists who survive a
round lost on time, kill rewards by weapon, plant and defuse bonuses.
"""

from __future__ import annotations

import random

from chimera.config import EconomyParams
from chimera.sim import weapons
from chimera.sim.state import CT, Player, T, Team

KEVLAR, KEVLAR_HELMET, DEFUSER = 650, 1000, 400
DEFAULT_PISTOL = {T: "glock", CT: "usp_silencer"}
RIFLE = {T: "ak47", CT: "m4a1_silencer"}
FORCE_GUN = {T: ("galilar", "mac10"), CT: ("famas", "mp9")}
UTILITY = {
    T: ("smokegrenade", "flashbang", "molotov", "hegrenade", "flashbang"),
    CT: ("smokegrenade", "flashbang", "incgrenade", "hegrenade", "flashbang"),
}
MAX_GRENADES = 4
FULL_BUY_COST = {T: 2700 + KEVLAR_HELMET + 900, CT: 2900 + KEVLAR_HELMET + 1100}


def equipment_value(p: Player) -> int:
    """Value of what the player holds, as CS2's m_unCurrentEquipmentValue counts it."""
    if not p.alive:
        return 0
    value = sum(weapons.price(w) for w in (p.primary, p.secondary) if w)
    value += sum(weapons.price(g) for g in p.grenades)
    value += (KEVLAR_HELMET if p.helmet else KEVLAR) if p.armor > 0 else 0
    return value + (DEFUSER if p.defuser else 0)


def team_buy_type(team: Team, players: list[Player], pistol_round: bool) -> str:
    """pistol / full / force / eco, decided from the team's money like an in-game leader would."""
    if pistol_round:
        return "pistol"
    side = team.side
    can_full = sum(
        p.money + (weapons.price(p.primary) if p.primary else 0) >= FULL_BUY_COST[side] for p in players
    )
    if can_full >= 4:
        return "full"
    avg = sum(p.money for p in players) / len(players)
    if avg >= 2100 and (team.loss_count >= 3 or avg < FULL_BUY_COST[side] * 0.6):
        return "force"
    return "eco"


def buy(p: Player, buy_type: str, awper: bool, rng: random.Random) -> None:
    """Spend the player's money for ``buy_type``; survivors keep what they carried over."""
    side = p.side
    if p.secondary is None:
        p.secondary = DEFAULT_PISTOL[side]

    def afford(cost: int) -> bool:
        if p.money >= cost:
            p.money -= cost
            return True
        return False

    def armour(helmet: bool) -> None:
        if helmet and (not p.helmet or p.armor < 100) and afford(KEVLAR_HELMET if p.armor < 100 else 350):
            p.armor, p.helmet = 100, True
        elif p.armor < 100 and afford(KEVLAR):
            p.armor = 100

    def nades(n: int) -> None:
        for g in UTILITY[side][:n]:
            if len(p.grenades) < MAX_GRENADES and g not in p.grenades and afford(weapons.price(g)):
                p.grenades.append(g)

    if buy_type == "pistol":
        if rng.random() < 0.55:
            armour(False)
        elif afford(weapons.price("p250")):
            p.secondary = "p250"
        nades(1 + (rng.random() < 0.5))
        if side == CT and rng.random() < 0.3:
            p.defuser = p.defuser or afford(DEFUSER)
        return
    if buy_type == "eco":
        if p.money > 3500 and p.primary is None and rng.random() < 0.5:
            nades(1)
        return
    if p.primary is None:
        if buy_type == "full":
            gun = "awp" if awper and p.money >= 4750 + KEVLAR_HELMET else RIFLE[side]
            if p.money < weapons.price(gun) + KEVLAR:
                gun = FORCE_GUN[side][0]
        else:
            gun = FORCE_GUN[side][rng.random() < 0.5]
        if afford(weapons.price(gun)):
            p.primary = gun
        elif p.money >= weapons.price("deagle") + KEVLAR:
            p.secondary = "deagle" if afford(weapons.price("deagle")) else p.secondary
    armour(helmet=buy_type == "full" or p.money >= KEVLAR_HELMET + 500)
    if side == CT and not p.defuser and p.money >= DEFUSER + 300:
        p.defuser = afford(DEFUSER)
    nades(4 if buy_type == "full" else 2)


def round_rewards(
    econ: EconomyParams,
    winners: Team,
    losers: Team,
    players: list[Player],
    reason: str,
    planted: bool,
) -> None:
    """Pay the end-of-round money and move both loss-bonus counters (CS2 rules)."""
    objective = reason in ("target_bombed", "bomb_defused")
    loss_bonus = econ.loss_bonus[min(losers.loss_count, len(econ.loss_bonus) - 1)]
    for p in players:
        if p.side == winners.side:
            p.money += econ.objective_win_reward if objective else econ.win_reward
        elif not (p.side == T and reason == "target_saved" and p.alive):
            p.money += loss_bonus + (econ.t_planted_loss_bonus if p.side == T and planted else 0)
        p.money = min(p.money, econ.max_money)
    winners.loss_count = max(winners.loss_count - 1, 0)
    losers.loss_count = min(losers.loss_count + 1, len(econ.loss_bonus) - 1)
