import pytest
from stdnum.cn import uscc as stdnum_uscc

from workflows.identifiers import (
    IdentifierError,
    make_uscc,
    uscc_check_digit,
    uscc_entity_kind,
    validate_resident_id,
    validate_uscc,
)


def error_code(func, value):
    with pytest.raises(IdentifierError) as caught:
        func(value)
    return caught.value.code


def test_the_stdnum_doctest_code_is_valid_and_returned_unchanged():
    assert validate_uscc("91110000600037341L") == "91110000600037341L"


def test_a_shenzhen_enterprise_code_gets_its_mod31_check_character():
    assert uscc_check_digit("91440300MA5F00001") == "A"
    assert make_uscc("91440300MA5F00001") == "91440300MA5F00001A"


def test_a_check_character_can_be_a_digit():
    assert make_uscc("91440300MA5DC2XN8") == "91440300MA5DC2XN8" + uscc_check_digit("91440300MA5DC2XN8")
    assert uscc_check_digit("91110000600037341") == "L"


def test_a_village_collective_code_starting_with_n_is_valid_although_stdnum_rejects_it():
    code = "N2440305MA5F000012"
    assert validate_uscc(code) == code
    assert not stdnum_uscc.is_valid(code)
    assert uscc_entity_kind(code) == "农业 / 村级集体经济组织"


def test_an_other_authority_code_starting_with_y_is_valid():
    assert validate_uscc("Y1110000MA01ABCD10") == "Y1110000MA01ABCD10"
    assert uscc_entity_kind("Y1110000MA01ABCD10") == "其他 / 其他"


def test_a_military_institution_code_starting_with_a_is_valid():
    code = make_uscc("A1110000MA01ABCD1")
    assert code[:2] == "A1"
    assert uscc_entity_kind(code) == "中央军委改革和编制办公室 / 军队事业单位"


def test_an_individual_business_code_describes_itself():
    assert uscc_entity_kind(make_uscc("92440300MA5F00001")) == "工商 / 个体工商户"


def test_a_wrong_check_character_is_reported_with_the_expected_one():
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("91110000600037341M")
    assert caught.value.code == "uscc_check_digit"
    assert "'L'" in str(caught.value)


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_the_five_forbidden_letters_are_rejected_anywhere(letter):
    assert error_code(validate_uscc, "91110000600037" + letter + "41L") == "uscc_charset"


def test_a_forbidden_letter_message_names_the_position():
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("9111000060003734OL")
    assert "position 17" in str(caught.value)


@pytest.mark.parametrize("value", ["", "9111000060003734", "91110000600037341", "91110000600037341LL"])
def test_codes_of_any_length_but_18_are_rejected(value):
    assert error_code(validate_uscc, value) == "uscc_length"


def test_lower_case_and_surrounding_spaces_are_normalised():
    assert validate_uscc("  91440300ma5f00001a\t") == "91440300MA5F00001A"


def test_a_trailing_ideographic_space_is_stripped_like_any_whitespace():
    assert validate_uscc("91440300MA5F00001A\u3000") == "91440300MA5F00001A"


def test_full_width_characters_are_rejected_with_a_clear_message():
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("９１440300MA5F00001A")
    assert caught.value.code == "uscc_fullwidth"
    assert "full-width" in str(caught.value)
    assert "position 1" in str(caught.value)


def test_chinese_characters_are_a_charset_error():
    assert error_code(validate_uscc, "统一440300MA5F00001A") == "uscc_charset"


def test_an_unknown_registration_authority_is_rejected():
    # B is in the alphabet but not an authority in GB 32100's table.
    assert error_code(validate_uscc, make_uscc_unchecked("B1440300MA5F00001")) == "uscc_authority"


def test_an_entity_type_foreign_to_its_authority_is_rejected():
    # Authority 9 (market regulation) has types 1, 2 and 3 only.
    assert error_code(validate_uscc, make_uscc_unchecked("94440300MA5F00001")) == "uscc_entity_type"


def test_letters_in_the_division_code_are_rejected():
    assert error_code(validate_uscc, make_uscc_unchecked("9144A300MA5F00001")) == "uscc_division"


def test_make_uscc_refuses_a_body_of_the_wrong_length():
    assert error_code(make_uscc, "91440300MA5F0000") == "uscc_length"


def test_a_non_text_value_is_an_identifier_error_not_a_type_error():
    assert error_code(validate_uscc, 914403001234567890) == "uscc_type"


def make_uscc_unchecked(first17):
    return first17 + stdnum_uscc.calc_check_digit(first17)


def test_a_resident_id_with_a_digit_check_is_valid():
    assert validate_resident_id("440305199003071009") == "440305199003071009"


@pytest.mark.parametrize("number", ["44030519900307105X", "11010519851122118X", "44030420000101101X"])
def test_a_resident_id_with_an_x_check_is_valid(number):
    assert validate_resident_id(number) == number


def test_a_lower_case_x_check_is_upper_cased():
    assert validate_resident_id(" 44030519900307105x ") == "44030519900307105X"


def test_a_resident_id_with_a_wrong_check_is_rejected():
    assert error_code(validate_resident_id, "440305199003071050") == "resident_id_check_digit"


def test_a_resident_id_of_the_wrong_length_is_rejected():
    assert error_code(validate_resident_id, "44030519900307105") == "resident_id_length"


def test_a_resident_id_with_a_letter_inside_is_rejected():
    assert error_code(validate_resident_id, "4403051990030710AX") == "resident_id_charset"


def test_a_resident_id_with_an_impossible_birth_date_is_rejected():
    body = "44030519900230100"  # 30 February
    number = body + _ric_check(body)
    assert error_code(validate_resident_id, number) == "resident_id_birth_date"


def test_a_resident_id_whose_area_code_did_not_exist_at_birth_is_rejected():
    # 330212 (Yinzhou district, Ningbo) was created in 2002; nobody born in 1978 holds it.
    assert error_code(validate_resident_id, "33021219780615109X") == "resident_id_area_code"


def test_a_resident_id_with_full_width_digits_is_rejected():
    assert error_code(validate_resident_id, "４40305199003071009") == "resident_id_fullwidth"


def _ric_check(body17):
    from stdnum.cn import ric

    return ric.calc_check_digit(body17 + "0")
