"""backfill_insights and generate_insights_demo_data."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from hotline.models import TakedownNotice, Tip
from insights.demo import demo_database_allowed, generate_demo_data
from insights.models import AggregationState, DailyCount
from supportline.models import Conversation
from tests.insights.fixtures import DAY, at, make_support_day

pytestmark = pytest.mark.django_db


def test_demo_data_goes_only_into_a_demo_or_bench_database_on_purpose():
    assert demo_database_allowed(name="ecpat_bench", debug=False, confirmed=True)
    assert demo_database_allowed(name="/data/demo.sqlite3", debug=True, confirmed=False)
    assert not demo_database_allowed(name="ecpat_bench", debug=False, confirmed=False)
    assert not demo_database_allowed(name="ecpat", debug=True, confirmed=True)


def test_the_command_refuses_an_ordinary_database():
    with pytest.raises(CommandError, match="Refusing"):
        call_command("generate_insights_demo_data", "--yes-i-know", "--chats", "10", "--tips", "10")
    assert not Conversation.objects.exists()


def test_generated_history_is_aggregated_into_every_figure():
    result = generate_demo_data(chats=400, tips=120, days=60, seed=1)
    assert Conversation.objects.count() == 400 and Tip.objects.count() == 120
    assert TakedownNotice.objects.exists()
    call_command("backfill_insights")
    chats = sum(DailyCount.objects.filter(metric=DailyCount.Metric.CHATS).values_list("count", flat=True))
    assert chats == 400 and result.letters == 40
    metrics = set(DailyCount.objects.values_list("metric", flat=True))
    assert {"chats", "letters", "wait", "duration", "category", "tips", "assessed", "removal_provider"} <= metrics


def test_backfill_counts_existing_days_and_recounts_only_on_purpose(capsys):
    make_support_day()
    with time_machine.travel(at(12, day=DAY + timedelta(days=2)), tick=False):
        call_command("backfill_insights")
        assert AggregationState.objects.get().settled_through == DAY + timedelta(days=1)
        call_command("backfill_insights", "--since", str(DAY))
    assert "settled through" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("backfill_insights", "--since", "yesterday")
