-- A mahalla is known by its district and its name: an import of a list that names it again
-- updates it instead of adding a second one, and one district cannot have two of one name.
CREATE UNIQUE INDEX mahallas_district_name ON mahallas (district_id, name_uz_latn);
