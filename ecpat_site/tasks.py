from celery import shared_task


@shared_task(name="ecpat_site.tasks.ping")
def ping() -> str:
    """Answers "pong": proves that a worker consumes from the broker and reports back."""
    return "pong"
