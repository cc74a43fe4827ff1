"""Positions, snapped before anything else sees them.

A raw position is used once, at the moment it arrives: to test the geofence and to find the
grid cell it falls in. Only the cell is stored. Every distance anyone is shown is computed
between cell centres and rounded to DISTANCE_STEP_M, so it is a function of the two cells
alone: however many places someone probes from, they learn at most which cell a person is in.
"""
import math

GRID_M = 50  # cell side in metres; never below 50 (DESIGN.md)
DISTANCE_STEP_M = 50  # distances are shown rounded to this step
EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


def metres_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def snap(origin_lat: float, origin_lng: float, lat: float, lng: float) -> tuple[int, int]:
    """The grid cell of a position, on a local metric grid anchored at the venue's centre."""
    x = (lng - origin_lng) * METRES_PER_DEGREE * math.cos(math.radians(origin_lat))
    y = (lat - origin_lat) * METRES_PER_DEGREE
    return math.floor(x / GRID_M), math.floor(y / GRID_M)


def cell_distance2(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Squared distance between two cells, in cells: what lists sort and filter by."""
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def rounded_distance_m(distance2: int) -> int:
    """The distance people are shown: between cell centres, rounded to the step."""
    metres = math.sqrt(distance2) * GRID_M
    return int(round(metres / DISTANCE_STEP_M)) * DISTANCE_STEP_M


def cells_within(radius_m: int) -> int:
    """The largest squared cell distance still within `radius_m`."""
    return math.floor((radius_m / GRID_M) ** 2)
