from datetime import date

from workflows.calendar import WorkCalendar, add_months, days_in_year


def test_an_adjusted_sunday_before_spring_festival_is_a_working_day():
    # 2024-02-04 was a Sunday worked in exchange for the 2024 Spring Festival break.
    assert WorkCalendar().is_working_day(date(2024, 2, 4))


def test_national_day_is_not_a_working_day():
    assert not WorkCalendar().is_working_day(date(2024, 10, 1))
    assert not WorkCalendar().is_working_day(date(2024, 10, 7))


def test_five_working_days_from_the_eve_of_national_day_skip_the_holiday_and_count_the_adjusted_saturday():
    # 2024-09-30 (Mon) -> holiday 10-01..10-07; 10-08 Tue, 10-09, 10-10, 10-11 Fri, 10-12 Sat (adjusted workday).
    cal = WorkCalendar()
    assert cal.add_working_days(date(2024, 9, 30), 5) == date(2024, 10, 12)
    assert cal.working_days_between(date(2024, 9, 30), date(2024, 10, 12)) == 5


def test_overrides_win_over_the_library():
    cal = WorkCalendar({date(2024, 10, 1): True, date(2024, 10, 8): False})
    assert cal.is_working_day(date(2024, 10, 1))
    assert not cal.is_working_day(date(2024, 10, 8))
    assert cal.add_working_days(date(2024, 9, 30), 2) == date(2024, 10, 9)


def test_years_beyond_the_library_fall_back_to_monday_to_friday():
    cal = WorkCalendar()
    assert cal.is_working_day(date(2040, 1, 2))  # a Monday
    assert not cal.is_working_day(date(2040, 1, 7))  # a Saturday
    assert cal.add_working_days(date(2040, 1, 6), 1) == date(2040, 1, 9)


def test_working_days_can_be_counted_backwards():
    cal = WorkCalendar()
    assert cal.add_working_days(date(2024, 10, 8), -1) == date(2024, 9, 30)
    assert cal.working_days_between(date(2024, 10, 12), date(2024, 9, 30)) == -5
    assert cal.add_working_days(date(2024, 10, 8), 0) == date(2024, 10, 8)


def test_adding_months_clamps_to_the_end_of_a_short_month():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 15), 3) == date(2025, 2, 15)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert days_in_year(2024) == 366 and days_in_year(2023) == 365
