"""The flows that couple all regions at once, as pure vectorised functions.

Each function takes arrays and parameters and returns arrays; none keeps state or draws random
numbers. The model calls them once a year. Couplings between regions (graduate migration and
knowledge spillovers) run over a fixed neighbour list of at most ``k`` regions per region, so
their cost grows as N*k, linearly in the number of regions. With 31 provinces and the default k
(48) every province is every other's neighbour and the couplings are exact.

Symbols (docs/ODD.md, "Submodels", uses the same names):
    Y  output (CNY bn), K capital (CNY bn), A productivity, N workers (millions),
    E  human-capital index, H skilled workers (millions), R research capacity (CNY bn).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)))


def neighbour_lists(lon: np.ndarray, lat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest regions of every region (itself first) and their distances.

    Args:
        lon, lat: coordinates in degrees, shape (N,).
        k: neighbours per region, itself included; all N regions when N <= k.

    Returns:
        ``(index, distance_km)``, both shape (N, min(N, k)); column 0 is the region itself.
        The lists of the same coordinates are computed once per process (every run of the
        provinces has them); each call returns its own copies.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    order, distance = _neighbour_lists(lon.tobytes(), lat.tobytes(), k)
    return order.copy(), distance.copy()


@functools.lru_cache(maxsize=8)
def _neighbour_lists(lon_bytes: bytes, lat_bytes: bytes, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`neighbour_lists` of coordinates given as the bytes of float arrays (kept: do not modify)."""
    points = _unit_vectors(np.frombuffer(lon_bytes), np.frombuffer(lat_bytes))
    n = len(points)
    k = min(n, k)
    if k == n:
        chord = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        order = np.argsort(chord, axis=1, kind="stable")
        # make sure each region is its own first neighbour even when two share a point
        own = order == np.arange(n)[:, None]
        order = np.where(own.any(axis=1, keepdims=True), np.concatenate(
            [np.arange(n)[:, None], order[~own].reshape(n, n - 1)], axis=1), order)
        chord = np.take_along_axis(chord, order, axis=1)
    else:
        chord, order = cKDTree(points).query(points, k=k)
        self_first = order[:, 0] == np.arange(n)
        if not self_first.all():  # coincident points: put the region itself first
            for i in np.flatnonzero(~self_first):
                row = [i] + [j for j in order[i] if j != i][: k - 1]
                order[i] = row
                chord[i] = np.linalg.norm(points[row] - points[i], axis=1)
    distance = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
    return order.astype(np.int64), distance


def divide_positive(numerator: np.ndarray, denominator: np.ndarray, fill: float) -> np.ndarray:
    """``numerator / denominator`` where the denominator is positive, ``fill`` elsewhere (broadcasting).

    The same numbers as ``np.divide(..., where=denominator > 0)`` into an array of ``fill``; when
    every denominator is positive (the usual case) it is the plain division, without the mask.
    """
    if denominator.min() > 0:
        return numerator / denominator
    out = np.full(np.broadcast_shapes(np.shape(numerator), np.shape(denominator)), fill, dtype=float)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def human_capital_index(skilled_share: np.ndarray, skill_premium: float) -> np.ndarray:
    """E = exp(psi * skilled share): Mincer-style efficiency of a region's workforce."""
    return np.exp(skill_premium * skilled_share)


def sector_output(
    productivity: np.ndarray,
    capital: np.ndarray,
    effective_labour: np.ndarray,
    price: np.ndarray,
    capital_share: float,
) -> np.ndarray:
    """Output of every region and sector, CNY bn.

    Workers follow capital across a region's sectors (N_s = N K_s / K), so Cobb-Douglas
    Y_s = p_s A_s K_s^a (E N_s)^(1-a) reduces to Y_s = p_s A_s K_s (E N / K)^(1-a).

    Args:
        productivity: A, shape (N, S).
        capital: K, shape (N, S).
        effective_labour: E*N per region, shape (N,).
        price: p per sector, shape (S,), 1 at the base year.
        capital_share: a.
    """
    total_capital = capital.sum(axis=1)
    labour_per_capital = divide_positive(effective_labour, total_capital, 0.0)
    return price * productivity * capital * (labour_per_capital ** (1.0 - capital_share))[:, None]


def price_exponents(elasticity: np.ndarray) -> np.ndarray:
    """1 / e per sector, 0 where e is infinite (see :func:`market_prices`)."""
    with np.errstate(divide="ignore"):
        return np.where(np.isinf(elasticity), 0.0, 1.0 / elasticity)


def market_prices(demand: np.ndarray, supply: np.ndarray, elasticity: np.ndarray,
                  exponent: np.ndarray | None = None) -> np.ndarray:
    """Prices that clear national markets with constant-elasticity demand.

    p = (D / X)^(1/e) for each sector; a sector with infinite elasticity keeps p = 1 (no demand
    constraint). With e = 1 the sector's total value is D whatever is supplied: a province that
    adds supply takes share from the others in the same market (crowding).

    Args:
        demand: D per sector, the value demanded at p = 1.
        supply: X per sector, quantity supplied at base-year prices.
        elasticity: e per sector (``np.inf`` for unconstrained sectors).
        exponent: :func:`price_exponents` of ``elasticity``, when already computed.
    """
    ratio = divide_positive(demand, supply, 1.0)
    if exponent is None:
        exponent = price_exponents(elasticity)
    return ratio**exponent


def limit_to_income(demand: np.ndarray, income: float) -> np.ndarray:
    """Scale demands down, in place, so that together they take at most ``income``; return them.

    Demand in the price-constrained sectors grows with national income with an elasticity that may
    exceed one (their budget share rises as incomes rise); at unit price elasticity a sector's
    spending is its demand, so without a limit the shares would pass the whole income and spending
    next year would grow faster than income this year, without end. Where the demands at base
    prices would add up to more than the national income of the year before, all are scaled by the
    same factor so that they add up to it (the budget shares keep their ratios). In the shipped
    scenarios the demands ask at most 41 % of income in any year to 2100, so the limit never binds
    there; it binds where income grows by orders of magnitude (the schema's upper corner).

    Args:
        demand: D per sector at base prices (CNY bn), zero for sectors without a demand constraint.
        income: national income (GDP, CNY bn) the demands are spent from.
    """
    total = demand.sum()
    if total > income:
        demand *= income / total
    return demand


def allocate_investment(
    investment: np.ndarray, capital: np.ndarray, returns: np.ndarray, responsiveness: float
) -> np.ndarray:
    """Split each region's investment over its sectors, tilted towards higher returns.

    I_s = I K_s (r_s / r_mean)^eta / sum over sectors of the same, where r_mean is the region's
    capital-weighted mean return. eta = 0 keeps the sector mix; larger eta moves capital faster.

    Args:
        investment: I per region, shape (N,).
        capital: K, shape (N, S).
        returns: average return p A (E N / K)^(1-a) per region and sector, shape (N, S).
        responsiveness: eta.
    """
    total = capital.sum(axis=1, keepdims=True)
    mean_return = (capital * returns).sum(axis=1, keepdims=True) / (total if total.min() > 0 else
                                                                      np.where(total > 0, total, 1.0))
    relative = divide_positive(returns, mean_return, 1.0)
    weights = capital * relative**responsiveness
    weight_sum = weights.sum(axis=1, keepdims=True)
    return investment[:, None] * divide_positive(weights, weight_sum, 0.0)


def research_output(capacity: np.ndarray, efficiency: np.ndarray, returns_to_scale: float,
                    agglomeration: float, reference_capacity: float) -> np.ndarray:
    """Research output (SCI papers a year) of each region.

    P = z R^b (R / R_ref)^g: diminishing returns b < 1 to a region's own capacity R, an
    agglomeration gain g for regions above the reference size R_ref, and a calibrated
    efficiency z per region that makes the base year match the observed papers.
    """
    safe = np.maximum(capacity, 0.0)
    return efficiency * safe**returns_to_scale * (safe / reference_capacity) ** agglomeration


def spillover_weights(distance_km: np.ndarray, share: float, distance_scale_km: np.ndarray) -> np.ndarray:
    """share * exp(-d_ij / D_ij) for every neighbour j != i, shape (N, k - 1) (see :func:`spillover_pool`)."""
    return share * np.exp(-distance_km[:, 1:] / distance_scale_km[:, 1:])


def spillover_pool(stock: np.ndarray, neighbours: np.ndarray, distance_km: np.ndarray,
                   share: float, distance_scale_km: np.ndarray | None, weights: np.ndarray | None = None) -> np.ndarray:
    """Knowledge reaching each region from its neighbours.

    S_i = share * sum over neighbours j != i of exp(-d_ij / D_ij) * R_j, with D_ij the distance
    scale (longer where connectivity is higher).

    Args:
        stock: research capacity, shape (N, F).
        neighbours: (N, k) indices, column 0 the region itself.
        distance_km: (N, k) distances.
        share: weight of a neighbour at zero distance.
        distance_scale_km: (N, k) distance scale per pair.
        weights: :func:`spillover_weights` of the above, when already computed (they change only
            with connectivity); ``distance_scale_km`` is then not used.
    """
    if weights is None:
        weights = spillover_weights(distance_km, share, distance_scale_km)
    return np.einsum("nk,nkf->nf", weights, stock[neighbours[:, 1:]])


def productivity_growth(
    productivity: np.ndarray,
    knowledge_growth: np.ndarray,
    transfer: np.ndarray,
    absorptive: np.ndarray,
    base_growth: float,
    knowledge_elasticity: np.ndarray | float,
    catch_up_rate: float,
    max_elasticity: float = np.inf,
) -> np.ndarray:
    """Log growth of productivity A for every region and sector in one year.

    dlnA = g0 + gamma_s * T * B * dln(K / Y) + kappa * ln(A_frontier / A)

    where K / Y is the knowledge intensity the sector draws on (own plus spilled-over research
    capacity in its field, over the province's GDP) and dln its log change this year, gamma_s the
    elasticity of productivity to that intensity (a level effect: doubling the intensity raises
    productivity by the factor 2^(gamma T B); no strategy buys a permanently higher growth rate,
    and growth of output itself lowers the intensity, so the loop cannot run away), T the
    technology-transfer multiplier (strategy), B the absorptive capacity and A_frontier the
    highest productivity of the sector.

    Args:
        productivity: A, shape (N, S).
        knowledge_growth: dln(K / Y), shape (N, S).
        transfer: T, shape (N, S).
        absorptive: B, shape (N,).
        base_growth: g0.
        knowledge_elasticity: gamma per sector, shape (S,), or one number.
        catch_up_rate: kappa.
        max_elasticity: upper bound of gamma_s T B (productivity rises at most in proportion to
            knowledge intensity; a larger elasticity would let a sector's growth feed on itself).
    """
    frontier = productivity.max(axis=0)
    gap = np.log(divide_positive(frontier, productivity, 1.0))
    elasticity = np.minimum(knowledge_elasticity * transfer * absorptive[:, None], max_elasticity)
    return base_growth + elasticity * knowledge_growth + catch_up_rate * gap


def graduate_flows(
    graduates: np.ndarray,
    attraction: np.ndarray,
    neighbours: np.ndarray,
    distance_km: np.ndarray,
    connectivity: np.ndarray,
    mobility: float,
    distance_cost: float,
    home_bias: float,
    distance_term: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Where each region's new graduates go to work.

    A share ``1 - mobility`` stays home. The mobile share chooses among the region's neighbours
    (itself included) by a multinomial logit: V_ij = a_j - c d_ij / (1000 km * conn_ij) + h [i=j],
    where a_j is destination j's attraction (wages, matching jobs), c the distance cost, conn_ij
    the connectivity of the pair and h the home bias (hukou friction). People are conserved.

    Args:
        graduates: new graduates per region, shape (N,).
        attraction: a_j per region, shape (N,).
        neighbours, distance_km: (N, k) neighbour lists, column 0 the region itself.
        connectivity: (N, k) connectivity of each pair.
        distance_term: :func:`graduate_distance_cost` of the above, when already computed (it changes
            only with connectivity).

    Returns:
        ``(arrivals, stayers)``: graduates starting work in each region, and the number of
        each region's graduates who stay home, both shape (N,).
    """
    if distance_term is None:
        distance_term = graduate_distance_cost(distance_km, connectivity, distance_cost)
    stay = (1.0 - mobility) * graduates
    flows = mover_flows(attraction, neighbours, distance_term, home_bias, (mobility * graduates)[:, None])
    arrivals = np.bincount(neighbours.ravel(), weights=flows.ravel(), minlength=len(graduates))
    arrivals += stay
    return arrivals, stay + flows[:, 0]


def mover_flows(attraction: np.ndarray, neighbours: np.ndarray, distance_term: np.ndarray, home_bias: float,
                movers: np.ndarray) -> np.ndarray:
    """The mobile graduates of each region (``movers``, shape (N, 1)) spread over its neighbours by the
    logit of :func:`graduate_flows`, shape (N, k): one buffer, updated in place (utility, then choice
    probabilities, then flows)."""
    utility = attraction.take(neighbours)
    utility -= distance_term
    utility[:, 0] += home_bias
    utility -= utility.max(axis=1, keepdims=True)
    choice = np.exp(utility, out=utility)
    choice /= choice.sum(axis=1, keepdims=True)
    return np.multiply(choice, movers, out=choice)


def graduate_distance_cost(distance_km: np.ndarray, connectivity: np.ndarray, distance_cost: float) -> np.ndarray:
    """c d_ij / (1000 km * conn_ij): the utility a graduate gives up to move, shape (N, k) (see :func:`graduate_flows`)."""
    return distance_cost * distance_km / (1000.0 * connectivity)


MAX_NET_OUTFLOW_SHARE = 0.1
"""The largest share of a region's residents that net migration can take away in one year.

The income gradient alone would let a region lose more people than it has once incomes diverge
far (rate x gap > 1). A tenth a year is far beyond what has been seen: the largest yearly fall of
a province's resident population in the history table (2010-2022) is 3.1 % (Hubei, 2020), and
in the shipped scenarios the gradient asks at most 0.4 % a year to 2100 (4.1 % at the schema's
largest migration rate, 0.05), so the bound never binds there."""


def income_migration(population: np.ndarray, income_per_capita: np.ndarray, rate: float,
                     max_outflow_share: float = MAX_NET_OUTFLOW_SHARE) -> np.ndarray:
    """Net migrants per region (millions) moving towards higher income; they sum to zero.

    m_i = rate * P_i * (ln y_i - mean over people of ln y), except that no region loses more than
    ``max_outflow_share`` of its residents in a year: where the gradient asks more, the outflow is
    that share, and the inflows shrink in proportion so that they still equal the outflows (people
    are conserved). Populations therefore stay positive whatever the income gap.
    """
    log_income = np.log(income_per_capita)
    total = population.sum()
    mean_log = np.dot(population, log_income) / total
    flows = rate * population * (log_income - mean_log)
    flows = flows - population * (flows.sum() / total)
    floor = -max_outflow_share * population
    if not (flows < floor).any():
        return flows
    flows = np.maximum(flows, floor)
    leaving = -flows[flows < 0.0].sum()
    arriving = flows[flows > 0.0].sum()
    return np.where(flows > 0.0, flows * (leaving / arriving), flows)
