"""The retention periods CloudWatch Logs accepts, and the nearest one that keeps enough."""

from __future__ import annotations

# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip


def retention_days(days: int) -> int:
    """The shortest retention CloudWatch Logs accepts that keeps logs at least `days`."""
    return next((allowed for allowed in LOG_RETENTION_DAYS if allowed >= days), 3653)
