package org.massline

import java.io.File
import java.time.LocalDate
import org.massline.ffi.Demand
import org.massline.ffi.Notice
import org.massline.ffi.Opinion
import org.massline.ffi.PracticalThing
import org.massline.ffi.Problem
import org.massline.ffi.Record
import org.massline.ffi.Rectification
import org.massline.ffi.ServiceRequest
import org.massline.ffi.StudyEntry
import org.massline.ffi.Visit

val today: LocalDate get() = LocalDate.now()

/** A self-study entry of [member]. */
fun study(member: String, minutes: UInt = 40u, topic: String = "党的群众路线学习读本") = StudyEntry(
    member = member,
    date = today,
    material = "mass_line_reading",
    topic = topic,
    mode = "self_study",
    minutes = minutes,
    reflection = "要密切联系群众",
)

/** An opinion heard on a household visit. */
fun opinion(text: String) = Opinion(
    date = today,
    channel = "household_visit",
    source = "poor",
    area = "village_affairs",
    fourWinds = "formalism",
    text = text,
    status = "received",
)

/** A problem raised by the masses. */
fun problem(title: String) = Problem(title = title, howFound = "raised_by_masses", area = "livelihood")

/** A planned rectification measure of [problem], the secretary responsible. */
fun rectification(problem: String, measure: String) = Rectification(
    problem = problem,
    measure = measure,
    objective = "每月公开",
    responsible = listOf("zhang"),
    deadline = today.plusMonths(3),
    term = "short",
    steps = mapOf("planned" to today),
)

/** A notice on the board. */
fun notice(title: String) = Notice(date = today, category = "village_affairs", medium = "board", title = title)

/** A practical thing promised to the masses. */
fun practicalThing(what: String) =
    PracticalThing(what = what, targetDate = today.plusMonths(2), responsible = listOf("zhang"), status = "promised")

/** A visit to a poor household with one demand, `d1`. */
fun visit(demand: String) = Visit(
    cadre = "zhang",
    household = "刘大爷",
    group = "poor",
    date = today,
    demands = listOf(Demand(id = "d1", text = demand)),
)

/** A medical-assistance application handled by the secretary. */
fun serviceRequest(applicant: String) = ServiceRequest(
    matter = "medical_assistance",
    applicant = applicant,
    appliedOn = today,
    checklist = listOf("身份证", "医院发票"),
    agent = "zhang",
    status = "accepted",
)

/** The study entry inside a record, or a test failure. */
val Record.studyEntry: StudyEntry get() = (this as Record.StudyEntry).v1

/** The rectification inside a record, or a test failure. */
val Record.rectification: Rectification get() = (this as Record.Rectification).v1

/** The opinion inside a record, or a test failure. */
val Record.opinion: Opinion get() = (this as Record.Opinion).v1

/** A store file in [dir]. */
suspend fun store(dir: File, name: String) = MasslineStore.open(File(dir, "$name.db"))
