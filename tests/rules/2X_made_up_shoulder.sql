-- A made-up Evidence-Based Interventions item, written in the published style, to show that a
-- second rule needs a rule file and no code change. It is not guidance.
WHEN ( Primary_Spell_Procedure like 'O29[1-3]%'
AND RIGHT(RTRIM(Any_Spell_Procedure), 4) IN ('Z812','Z813') )
-- Adults up to 90
AND COALESCE(APCS.Age_At_Start_of_Spell_SUS, APCS.Der_Age_at_CDS_Activity_Date) <= 90
AND COALESCE(APCS.Age_At_Start_of_Spell_SUS, APCS.Der_Age_at_CDS_Activity_Date) >= 19
-- Not a day case
AND apcs.Patient_Classification NOT IN ('2', '3', '4')
AND LEN(LTRIM(Primary_Spell_Diagnosis)) >= 4
AND SUBSTRING(UPPER(Primary_Spell_Diagnosis), 1, 3) NOT IN ('M75')
THEN '2X_Shoulder_made_up'
Exclusions
WHERE 1=1
-- Trauma Exclusion
AND NOT (Any_Spell_Diagnosis LIKE '%S4[0-9]%' AND Any_Spell_Diagnosis IS NOT NULL)
