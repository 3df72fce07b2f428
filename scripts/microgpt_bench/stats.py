"""Statistics over rounds: a value measured once per round, summarised by
its median and spread; a ratio of two rows taken within each round (A and B
of the same round) and summarised the same way; rows whose spreads overlap
grouped as ties."""
import collections
import statistics

# A row is marked unstable when its coefficient of variation over the
# rounds (sample standard deviation / mean) exceeds this.
UNSTABLE_CV = 0.10

Spread = collections.namedtuple("Spread", "median low high cv count")


def spread(values):
    """Spread of the values (None without any); cv is None for one value."""
    values = [value for value in values if value is not None]
    if not values:
        return None
    mean = statistics.fmean(values)
    cv = statistics.stdev(values) / mean if len(values) >= 2 and mean > 0 else None
    return Spread(statistics.median(values), min(values), max(values), cv, len(values))


def is_unstable(summary):
    return summary is not None and summary.cv is not None and summary.cv > UNSTABLE_CV


def round_ratios(numerators, denominators):
    """Spread of numerator / denominator over the rounds both were measured
    in ({round: value} each); None if they share no round."""
    shared = sorted(set(numerators) & set(denominators))
    return spread([numerators[r] / denominators[r] for r in shared if denominators[r] > 0])


def tie_groups(summaries):
    """{key: (rank, tied)} for {key: Spread}, fastest (lowest median) first.
    A row whose min-max range overlaps the range of the group before it
    joins that group; a group shares the rank of its first row, and its
    rows are tied: their order is not a result."""
    ordered = sorted((summary.median, summary.low, summary.high, key) for key, summary in summaries.items()
                     if summary is not None)
    groups = []
    for median, low, high, key in ordered:
        if groups and low <= groups[-1]["high"]:
            groups[-1]["keys"].append(key)
            groups[-1]["high"] = max(groups[-1]["high"], high)
        else:
            groups.append({"keys": [key], "high": high})
    ranks, position = {}, 1
    for group in groups:
        for key in group["keys"]:
            ranks[key] = (position, len(group["keys"]) > 1)
        position += len(group["keys"])
    return ranks
