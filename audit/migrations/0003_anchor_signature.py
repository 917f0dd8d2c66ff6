from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_chain_anchor"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainanchor",
            name="last_deleted_id",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditchainanchor",
            name="signature",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
