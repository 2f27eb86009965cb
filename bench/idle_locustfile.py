"""The idle-memory scenario for Locust (bench/idle.sh): each user GETs /
once, then waits 30 to 60 s, like bench/idle.star."""
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser


class Idle(FastHttpUser):
    wait_time = between(30, 60)

    @task
    def index(self):
        self.client.get("/")
