import os
from benchmarks.apps.django_bare import application as _inner
N = int(os.environ.get("BURN", "5000"))
def application(environ, start_response):
    x = 0
    for i in range(N):
        x += i
    return _inner(environ, start_response)
