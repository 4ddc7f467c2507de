WHEN ( Primary_Spell_Procedure like '%V48[57]%' 
AND ( Any_Spell_Procedure LIKE '%Z67[567]%' 
OR Any_Spell_Procedure LIKE '%Z993%')
)
AND LEFT(Primary_Spell_Diagnosis,4) IN ('M512','M518','M519','M545','M549') 
-- Age between 19 and 120
AND ISNULL(APCS.Age_At_Start_of_Spell_SUS,APCS.Der_Age_at_CDS_Activity_Date) between 19 AND 120 
-- Only Elective Activity
AND APCS.Admission_Method not like ('2%') 
THEN '2K_RFD_back'
Exclusions
WHERE 1=1
-- Cancer Diagnosis Exclusion
AND (Any_Spell_Diagnosis not like '%C[0-9][0-9]%' 
AND Any_Spell_Diagnosis not like '%D0%' 
AND Any_Spell_Diagnosis not like '%D3[789]%' 
AND Any_Spell_Diagnosis not like '%D4[012345678]%' 
OR Any_Spell_Diagnosis IS NULL)
-- Private Appointment Exclusion
AND apcs.Administrative_Category<>'02'
