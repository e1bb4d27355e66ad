"""A Django app whose sessions live in Redis behind Sentinel, set up as the libraries' own
documentation shows, drilled by failover-drill.

Django's cache-backed sessions (`SESSION_ENGINE = "django.contrib.sessions.backends.cache"`, as
django-redis's README configures its session backend) on django-redis, reached through Sentinel
as that README's "Use the sentinel connection factory" section shows. Nothing here handles a
failover: what a drill finds is what these libraries do in their documented configuration.

DJANGO_REDIS_SETUP chooses the configuration:

    readme   (default) the README's first example: `SentinelClient`, which makes a pool for the
             primary and one for the replicas; the session is read from a replica and written
             to the primary.
    primary  `DefaultClient` with only the README's `?is_master=1` location: reads and writes
             both go to the primary. Not in the README as such; the same factory and pool.

It answers failover-drill's default contract (POST /login, POST /session/items, GET /session,
POST /logout, GET /healthz). Run with, from the repository's root (pip install django django-redis gunicorn):

    failover-drill run kill-master --app-cmd 'exec python3 -m gunicorn --chdir examples/django \
        --workers 1 --threads 16 --bind $FAILOVER_DRILL_LISTEN session_app:application'
"""

import json
import os

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

MASTER_NAME = os.environ["FAILOVER_DRILL_MASTER_NAME"]
PASSWORD = os.environ.get("FAILOVER_DRILL_REDIS_PASSWORD") or None
SENTINELS = [
    (host, int(port))
    for host, port in (a.rsplit(":", 1) for a in os.environ["FAILOVER_DRILL_SENTINELS"].split(","))
]
SETUP = os.environ.get("DJANGO_REDIS_SETUP", "readme")

if SETUP == "readme":
    cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://{MASTER_NAME}/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "SENTINELS": SENTINELS,
            "CONNECTION_POOL_CLASS": "redis.sentinel.SentinelConnectionPool",
        },
    }
elif SETUP == "primary":
    cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://{MASTER_NAME}/0?is_master=1",
        "OPTIONS": {"SENTINELS": SENTINELS},
    }
else:
    raise SystemExit(f"DJANGO_REDIS_SETUP={SETUP!r}: use readme or primary")
if PASSWORD:
    cache["OPTIONS"]["PASSWORD"] = PASSWORD
    cache["OPTIONS"]["SENTINEL_KWARGS"] = {"password": PASSWORD}

settings.configure(
    DEBUG=False,
    # Sessions are kept whole in the cache; the key only signs what this app never signs.
    SECRET_KEY="failover-drill-example",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
    SESSION_ENGINE="django.contrib.sessions.backends.cache",
    # How long an unused session lives (Django's default is two weeks); a drill that checks
    # expiry sets it short. The cache keeps each session that many seconds from its last save.
    SESSION_COOKIE_AGE=int(os.environ.get("FAILOVER_DRILL_SESSION_TTL", "1209600")),
    SESSION_CACHE_ALIAS="default",
    DJANGO_REDIS_CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
    CACHES={"default": cache},
)
django.setup()


def no_session():
    return JsonResponse({"error": "no session"}, status=401)


@require_POST
def login(request):
    user = json.loads(request.body)["user"]
    # A new session id at login, as django.contrib.auth's login() cycles it.
    request.session.flush()
    request.session["user"] = user
    request.session["items"] = []
    return JsonResponse({"user": user})


@require_POST
def items_append(request):
    if "user" not in request.session:
        return no_session()
    items = request.session["items"] + [json.loads(request.body)["value"]]
    request.session["items"] = items
    return JsonResponse({"version": len(items)})


@require_GET
def session_show(request):
    if "user" not in request.session:
        return no_session()
    items = request.session["items"]
    return JsonResponse({"user": request.session["user"], "items": items, "version": len(items)})


@require_POST
def logout(request):
    # As django.contrib.auth's logout() does: flush() deletes the session from the cache and
    # drops its id.
    request.session.flush()
    return JsonResponse({})


def healthz(_request):
    return HttpResponse("ok")


urlpatterns = [
    path("login", login),
    path("session/items", items_append),
    path("session", session_show),
    path("logout", logout),
    path("healthz", healthz),
]

application = get_wsgi_application()
