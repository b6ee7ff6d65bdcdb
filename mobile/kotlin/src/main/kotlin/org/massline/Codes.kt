package org.massline

import org.massline.ffi.CodeList
import org.massline.ffi.CodeValue
import org.massline.ffi.codeLabel
import org.massline.ffi.codeLists
import org.massline.ffi.fieldLabel
import org.massline.model.Lang

/**
 * The codes of every coded record field (`study_mode`, `opinion_channel`, …)
 * with their Chinese and English labels, for choice lists and display.
 */
object Codes {
    /** Every enumeration by name, values in display order. */
    val lists: Map<String, CodeList> by lazy { codeLists().associateBy { it.name } }

    /** The values of enumeration [list] to offer as choices. */
    fun choices(list: String): List<CodeValue> = lists[list]?.values.orEmpty()

    /** The label of [code] in enumeration [list]; the code itself if unknown. */
    fun label(list: String, code: String, lang: Lang = Lang.ZH): String = codeLabel(list, code, lang) ?: code

    /** The label of a record field (`minutes` → `时长(分钟)`). */
    fun field(field: String, lang: Lang = Lang.ZH): String = fieldLabel(field, lang)
}
