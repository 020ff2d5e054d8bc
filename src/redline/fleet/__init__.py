"""Running Redline as a fleet: replicas sharing one PostgreSQL database and one Redis.

:mod:`redline.fleet.schema` owns the database schema and its versioned migrations
(``redline db upgrade``); :mod:`redline.fleet.identity` owns the fleet's identity (which
secrets and which policy a replica must hold to join) and the register of live replicas.
The composition root (:mod:`redline.bootstrap`) checks both before a replica serves;
``redline doctor`` reports the same checks without starting anything.
"""
