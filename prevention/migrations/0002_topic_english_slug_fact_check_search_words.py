"""Topics get an English slug, the review date becomes the fact-check date, and search gets a vocabulary."""

from typing import Any

from django.db import migrations, models
from django.utils import timezone

# The English slugs of the topics the project ships (prevention/content/topics.txt).
ENGLISH_SLUGS = {
    "grooming": "grooming",
    "sextortion": "sextortion",
    "inte-ditt-fel": "not-your-fault",
    "prata": "talking",
    "lagen": "the-law",
    "hjalp": "getting-help",
}


def english_slugs(apps: Any, schema_editor: Any) -> None:
    Topic = apps.get_model("prevention", "Topic")
    for topic in Topic.objects.all():
        topic.slug_en = ENGLISH_SLUGS.get(topic.slug, topic.slug)
        topic.save(update_fields=["slug_en"])


class Migration(migrations.Migration):
    dependencies = [
        ("prevention", "0001_articles"),
    ]

    operations = [
        migrations.AddField(
            model_name="topic",
            name="slug_en",
            field=models.SlugField(db_index=False, default="", max_length=60, verbose_name="adress på engelska"),
            preserve_default=False,
        ),
        migrations.RunPython(english_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="topic",
            name="slug_en",
            field=models.SlugField(
                help_text="Engelska ord, t.ex. not-your-fault.",
                max_length=60,
                unique=True,
                verbose_name="adress på engelska",
            ),
        ),
        migrations.AlterField(
            model_name="topic",
            name="slug",
            field=models.SlugField(max_length=60, unique=True, verbose_name="adress på svenska"),
        ),
        migrations.AlterField(
            model_name="article",
            name="last_reviewed",
            field=models.DateField(
                default=timezone.localdate,
                help_text="När texten senast kontrollerades mot sina källor (lagtext, Polisen, Brå, egna rapporter).",
                verbose_name="faktagranskad",
            ),
        ),
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("language", models.CharField(choices=[("sv", "Svenska"), ("en", "Engelska")], max_length=2)),
                ("word", models.CharField(max_length=40)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("language", "word"), name="prevention_searchword_unique")],
            },
        ),
    ]
