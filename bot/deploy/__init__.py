"""Running the bot as a service: several worker processes and replicas behind a load balancer.

- :mod:`bot.deploy.dedupe`: duplicate suppression shared by every replica, in Redis.
- :mod:`bot.deploy.runtime`: one serving process's life: readiness, draining on SIGTERM,
  knowledge reloads, and ``/metrics``.
- :mod:`bot.deploy.reload`: finding and validating knowledge edits.
- :mod:`bot.deploy.metrics`: the Prometheus metrics, per process or across worker processes.
- :mod:`bot.deploy.workers`: the pre-fork supervisor behind ``serve --http --workers N``.
- :mod:`bot.deploy.healthcheck` and :mod:`bot.deploy.configmap`: small tools for the
  container's health check and the Kubernetes knowledge ConfigMap.
"""
